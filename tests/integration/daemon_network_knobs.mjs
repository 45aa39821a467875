// Network knobs as they show in answers, in both ICE modes: the address
// list, the interface allow-list, the UDP port range, ICE-TCP on/off and the
// public address of a 1:1 NAT. Canned offers only: no packet goes to the
// (documentation) public address.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { startDaemon } from '../lib/daemon.mjs';

const offer = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');
const candidates = (sdp) => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
const addressesOf = (c) => [...new Set(c.map((l) => l.split(' ')[4]))].sort();
// `iceAddress: null`: without the harness's --ice-address 127.0.0.1, so the
// daemon picks its addresses itself (or from --interfaces).
async function answerWith(args, { iceAddress } = {}) {
  const d = await startDaemon({ args: ['--width', '320', '--height', '240', ...args], iceAddress });
  try {
    const r = await d.request({ op: 'offer', stream: 'cam', sdp: offer });
    assert.equal(r.status, 201, JSON.stringify(r));
    const c = candidates(r.sdp);
    assert.ok(c.length > 0, `candidates in the answer to ${args.join(' ')}`);
    return c;
  } finally {
    await d.stop();
  }
}
// An interface's addresses as the daemon counts them usable (not link-local).
const usable = (name) => (os.networkInterfaces()[name] ?? []).map((a) => a.address)
  .filter((a) => !a.startsWith('fe80:')).sort();
const other = Object.keys(os.networkInterfaces()).find((n) => n !== 'lo' && usable(n).length > 0);
if (!other) throw new Error('the --interfaces test needs an interface besides lo with a non-link-local address');
assert.ok(usable('lo').includes('127.0.0.1'), 'lo has 127.0.0.1');

for (const mode of ['lite', 'full']) {
  const m = ['--ice-mode', mode];
  // --ice-address (the harness's 127.0.0.1): UDP only, on that address alone.
  let c = await answerWith(m);
  assert.ok(c.every((l) => / UDP /i.test(l)), `${mode}: UDP only\n${c.join('\n')}`);
  assert.deepEqual(addressesOf(c), ['127.0.0.1'], `${mode}: --ice-address`);

  // Interface allow-list by name: exactly that interface's addresses. Without
  // it the daemon would answer on other addresses (checked, so the knob counts).
  const all = addressesOf(await answerWith(m, { iceAddress: null }));
  assert.notDeepEqual(all, usable('lo'), `${mode}: the default is not lo's addresses already`);
  assert.deepEqual(addressesOf(await answerWith([...m, '--interfaces', 'lo'], { iceAddress: null })), usable('lo'),
    `${mode}: --interfaces lo`);
  assert.deepEqual(addressesOf(await answerWith([...m, '--interfaces', other], { iceAddress: null })), usable(other),
    `${mode}: --interfaces ${other}`);

  // Port range.
  c = await answerWith([...m, '--port-range', '45100-45110']);
  for (const l of c) {
    const port = Number(l.split(' ')[5]);
    assert.ok(port >= 45100 && port <= 45110, `${mode}: port ${port} in 45100-45110`);
  }
}

// ICE-TCP on (mode auto then takes the full agent).
let c = await answerWith(['--ice-tcp', 'on']);
assert.ok(c.some((l) => / TCP .* tcptype /i.test(l)), 'TCP candidates with ice-tcp on');

// 1:1 NAT: each host candidate is also announced on the public address.
c = await answerWith(['--public-address', '203.0.113.7']);
const local = c.filter((l) => / 127\.0\.0\.1 /.test(l));
const pub = c.filter((l) => / 203\.0\.113\.7 /.test(l));
assert.ok(local.length > 0, c.join('\n'));
assert.equal(pub.length, local.length, c.join('\n'));
assert.equal(pub[0].split(' ')[5], local[0].split(' ')[5], 'same port on the public address');
process.exit(0);
