// Network knobs as they show in answers: the UDP port range, the interface
// allow-list, ICE-TCP on/off and the public address of a 1:1 NAT. Canned
// offers only: no packet goes to the (documentation) public address.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startDaemon } from '../lib/daemon.mjs';

const offer = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');
const candidates = (sdp) => sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
async function answerWith(args) {
  const d = await startDaemon({ args: ['--width', '320', '--height', '240', ...args] });
  try {
    const r = await d.request({ op: 'offer', stream: 'cam', sdp: offer });
    assert.equal(r.status, 201, JSON.stringify(r));
    return candidates(r.sdp);
  } finally {
    await d.stop();
  }
}

// Default: UDP only, on the allowed (loopback) address.
let c = await answerWith([]);
assert.ok(c.length > 0);
assert.ok(c.every((l) => / UDP /i.test(l) && / 127\.0\.0\.1 /.test(l)), c.join('\n'));

// Port range.
c = await answerWith(['--port-range', '45100-45110']);
for (const l of c) {
  const port = Number(l.split(' ')[5]);
  assert.ok(port >= 45100 && port <= 45110, `port ${port} in 45100-45110`);
}

// Interface allow-list by name.
c = await answerWith(['--interfaces', 'lo']);
assert.ok(c.every((l) => / 127\.0\.0\.1 | ::1 /.test(l)), c.join('\n'));

// ICE-TCP on.
c = await answerWith(['--ice-tcp', 'on']);
assert.ok(c.some((l) => / TCP .* tcptype /i.test(l)), 'TCP candidates with ice-tcp on');

// 1:1 NAT: each host candidate is also announced on the public address.
c = await answerWith(['--public-address', '203.0.113.7']);
const local = c.filter((l) => / 127\.0\.0\.1 /.test(l));
const pub = c.filter((l) => / 203\.0\.113\.7 /.test(l));
assert.equal(pub.length, local.length, c.join('\n'));
assert.equal(pub[0].split(' ')[5], local[0].split(' ')[5], 'same port on the public address');
process.exit(0);
