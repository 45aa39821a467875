// N werift viewers offer to a fresh whepcamd at once (720p, 2 Mbps) and the
// times to their first packet are printed: offer -> first packet, the offer
// round trip, accept, accept -> connected, connected -> first packet, every
// fifth join and the slowest. Usage: node tests/load/join_burst.mjs [N] [lite|full]
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const N = Number(process.argv[2] || 50);
const mode = process.argv[3] || 'lite';
const d = await startDaemon({ args: ['--width', '1280', '--height', '720', '--max-viewers', '400', '--ice-mode', mode] });
const rows = [];
await Promise.all(Array.from({ length: N }, async () => {
  const r = await createReceiver();
  const a = performance.now();
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  const b = performance.now();
  await r.accept(reply.sdp);
  const c = performance.now();
  await r.waitPackets(1, 20000).catch(() => {});
  const e = performance.now();
  const connected = r.stats().connectedAt ?? NaN;
  rows.push([e - a, b - a, c - b, connected - c, e - connected]);
  await r.close();
}));
rows.sort((x, y) => x[0] - y[0]);
console.log(`${N} joins at once, mode ${mode} (ms): total, offer, accept, ->connected, ->first packet`);
for (const row of rows.filter((_, i) => i % 5 === 0 || i === rows.length - 1)) console.log(row.map((x) => x.toFixed(0)).join('\t'));
await d.stop();
process.exit(0);
