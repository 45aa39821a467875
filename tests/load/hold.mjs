// Holds N whep_rx viewers on the real stack (1280x720@30, 2 Mbps) until
// stdin closes, for profiling by hand: prints the daemon's pid, POST -> 201
// through nginx with the viewers held, then waits.
// Usage: node tests/load/hold.mjs N [source]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStack } from '../lib/stack.mjs';
import { startFleet, setViewers, median, pct } from './fleet.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] || 1000);
const source = process.argv[3] || 'test:smpte';
const s = await startStack({ daemonArgs: ['--width', '1280', '--height', '720', '--fps', '30', '--bitrate-kbps', '2000',
  '--source', source, '--max-viewers', String(n + 50), '--log-level', 'message'] });
// A clip is H.264: viewers offering it get it passed through (no encoder).
const fleet = await startFleet(1, null, { receiver: 'c', args: [...(source.startsWith('file:') ? ['--h264'] : []), ...(process.env.HOLD_RX_ARGS ?? '').split(' ').filter(Boolean)] });
const t = performance.now();
const j = await setViewers(fleet, { kind: 'whep', base: s.base }, n);
console.log(`daemon pid ${s.daemon.pid}; ${j.joined.length} joined, ${j.failed} failed in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const offer = fs.readFileSync(path.join(here, '../data/offer-chromium.sdp'), 'utf8')
  .replace('packetization-mode=1;profile-level-id=4d001f', 'packetization-mode=1;profile-level-id=64001f');
const ms = [];
for (let i = 0; i < Number(process.env.HOLD_POSTS ?? 40); i++) {
  const a = performance.now();
  const res = await fetch(`${s.base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
  await res.text();
  ms.push(performance.now() - a);
  if (res.status === 201) await fetch(s.base + res.headers.get('location'), { method: 'DELETE' });
}
console.log(`POST -> 201 p50 ${median(ms).toFixed(1)} p95 ${pct(ms, 0.95).toFixed(1)} max ${Math.max(...ms).toFixed(1)} ms; slowest ${[...ms].sort((a, b) => b - a).slice(0, 8).map((x) => x.toFixed(1)).join(' ')}`);
process.stdin.resume();
await new Promise((r) => process.stdin.on('end', r));
await fleet.stop();
await s.stop();
process.exit(0);
