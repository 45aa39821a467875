// N werift viewers offer to a fresh whepcamd at once (720p, 2 Mbps) and the
// times to their first packet are printed: offer -> first packet, the offer
// round trip, accept, accept -> connected, connected -> first packet, every
// fifth join and the slowest. A join that fails (no 201, an answer the peer
// refuses, no packet within 20 s) is counted and reported with its reason,
// and any failed join makes the exit status 1.
// Usage: node tests/load/join_burst.mjs [N] [lite|full]
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const N = Number(process.argv[2] || 50);
const mode = process.argv[3] || 'lite';
const d = await startDaemon({ args: ['--width', '1280', '--height', '720', '--max-viewers', '400', '--ice-mode', mode] });
const rows = [];
const failed = [];
await Promise.all(Array.from({ length: N }, async () => {
  let r = null;
  let step = 'create the peer';
  try {
    r = await createReceiver();
    const a = performance.now();
    step = 'offer';
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    if (reply.status !== 201) throw new Error(`${reply.status} ${reply.error ?? ''} ${reply.detail ?? ''}`.trim());
    const b = performance.now();
    step = 'accept the answer';
    await r.accept(reply.sdp);
    const c = performance.now();
    step = 'first packet';
    await r.waitPackets(1, 20000);
    const e = performance.now();
    const connected = r.stats().connectedAt ?? NaN;
    rows.push([e - a, b - a, c - b, connected - c, e - connected]);
  } catch (err) {
    failed.push(`${step}: ${err.message.split('\n')[0]}`);
  } finally {
    await r?.close().catch(() => {});
  }
}));
rows.sort((x, y) => x[0] - y[0]);
console.log(`${N} joins at once, mode ${mode} (ms): total, offer, accept, ->connected, ->first packet`);
for (const row of rows.filter((_, i) => i % 5 === 0 || i === rows.length - 1)) console.log(row.map((x) => x.toFixed(0)).join('\t'));
const reasons = new Map();
for (const f of failed) reasons.set(f, (reasons.get(f) ?? 0) + 1);
console.log(`${rows.length} of ${N} joined, ${failed.length} failed`);
for (const [why, n] of reasons) console.log(`  ${n} x ${why}`);
const code = await d.stop();
if (code !== 0) console.log(`whepcamd exited with ${code}`);
process.exit(failed.length === 0 && rows.length === N && code === 0 ? 0 : 1);
