// CPU of whepcamd's viewer path (every thread but the source and encoder's)
// per viewer, with N werift viewers on the daemon socket, over 15 s.
// Usage: node tests/load/relay_cost.mjs [N=50] [pattern=ball] [kbps=200]
// (TAG=label prefixes the line, for A/B runs.)
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { ticksExcept } from './fleet.mjs';
const N = Number(process.argv[2] || 50), pattern = process.argv[3] || 'ball', kbps = process.argv[4] || '200';
const d = await startDaemon({ args: ['--width', '1280', '--height', '720', '--source', `test:${pattern}`, '--bitrate-kbps', kbps, '--log-level', 'warning'] });
try {
  const rs = [];
  for (let i = 0; i < N; i += 10) {
    rs.push(...await Promise.all(Array.from({ length: 10 }, async () => {
      const r = await createReceiver();
      const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
      await r.accept(reply.sdp); await r.waitPackets(5, 15000); return r;
    })));
  }
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = ticksExcept(d.pid, /^videotestsrc/), p0 = rs.reduce((a, r) => a + r.stats().packets, 0), s = performance.now();
  await new Promise((r) => setTimeout(r, 15000));
  const t1 = ticksExcept(d.pid, /^videotestsrc/), p1 = rs.reduce((a, r) => a + r.stats().packets, 0), secs = (performance.now() - s) / 1000;
  console.log(`${process.env.TAG ?? ''} N=${N} ${pattern}@${kbps}: relay CPU ${((t1 - t0) / secs).toFixed(1)} % -> ${((t1 - t0) / secs / N).toFixed(3)} %/viewer, ${((p1 - p0) / secs / N).toFixed(0)} pkt/s/viewer`);
  for (const r of rs) await r.close();
} finally { await d.stop(); }
process.exit(0);
