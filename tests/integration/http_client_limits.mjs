// Issue 13 (4): canned offers cannot take every slot. Sessions that have not
// yet received a valid ICE check are cheap and short-lived: one address may
// hold only WHEPCAM_MAX_PENDING_PER_ADDRESS (4) of them and max-viewers-per-address
// sessions in all (429 + Retry-After past either), all addresses together
// max-pending (503), and one without a check by first-check-timeout-s is
// reaped ("no-ice-check"). nginx's own POST rate (production defaults here) sits
// in front. A flood from 127.0.0.2 cannot stop a real viewer from 127.0.0.3.
// On the old code the flood filled max-viewers and the real viewer got 503.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { startStack } from '../lib/stack.mjs';
import { until } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const canned = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');

// One HTTP request from a chosen local address (nginx sees it as the client).
function from(addr, method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, localAddress: addr, headers: body ? { 'Content-Type': 'application/sdp' } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

// A real werift viewer whose HTTP and ICE both come from `addr`.
async function play(s, addr) {
  const r = await createReceiver({ host: addr });
  const res = await from(addr, 'POST', `${s.base}/whep/cam`, r.offer);
  if (res.status !== 201) return { r, res };
  await r.accept(res.body);
  await r.waitPackets(20, 15000);
  return { r, res };
}

const s = await startStack({ clientLimits: true, daemonArgs: ['--width', '320', '--height', '240',
  '--max-viewers', '15', '--max-pending', '6', '--max-viewers-per-address', '3', '--first-check-timeout-s', '8'] });
try {
  // The flood: 40 canned offers from one address at about nginx's rate (10/s).
  const flood = [];
  for (let i = 0; i < 40; i++) {
    flood.push(from('127.0.0.2', 'POST', `${s.base}/whep/cam`, canned));
    await new Promise((r) => setTimeout(r, 60));
  }
  const statuses = (await Promise.all(flood)).map((x) => x.status);
  const created = statuses.filter((x) => x === 201).length;
  assert.equal(created, 3, `one address holds at most its 3 sessions: ${statuses}`);
  assert.ok(statuses.every((x) => x === 201 || x === 429), `the rest is 429: ${statuses}`);
  const limited = (await from('127.0.0.2', 'POST', `${s.base}/whep/cam`, canned));
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After with the 429');
  assert.match(JSON.parse(limited.body).detail, /127\.0\.0\.2/);

  // A real viewer from elsewhere joins at once and plays.
  const a = await play(s, '127.0.0.3');
  assert.equal(a.res.status, 201, a.res.body);

  // Pending sessions of any address count against max-pending (6): 3 held by .2
  // (still within their 8 s), 3 more from .4 fit, the next from .5 is refused with 503.
  for (let i = 0; i < 3; i++) assert.equal((await from('127.0.0.4', 'POST', `${s.base}/whep/cam`, canned)).status, 201);
  const full = await from('127.0.0.5', 'POST', `${s.base}/whep/cam`, canned);
  assert.equal(full.status, 503, full.body);
  assert.match(JSON.parse(full.body).detail, /still connecting/);

  // Never checked: reaped after first-check-timeout-s, and the address may offer again.
  await until(() => (s.daemon.log().match(/leave \(no-ice-check\)/g) ?? []).length === 6,
    { timeoutMs: 20000, what: 'the six canned sessions reaped for no ICE check' });
  assert.equal((await from('127.0.0.2', 'POST', `${s.base}/whep/cam`, canned)).status, 201);

  // Checked sessions count against the per-address total: a fourth real viewer from .3 is refused.
  const b = await play(s, '127.0.0.3'), c = await play(s, '127.0.0.3');
  assert.equal(b.res.status, 201);
  assert.equal(c.res.status, 201);
  const d = await play(s, '127.0.0.3');
  assert.equal(d.res.status, 429, 'a fourth session from one address');
  assert.match(JSON.parse(d.res.body).detail, /3 sessions from 127\.0\.0\.3/);
  assert.ok(a.r.stats().packets > 20, 'the first real viewer played on throughout');
  for (const v of [a, b, c, d]) await v.r.close();
} finally {
  await s.stop();
}
process.exit(0);
