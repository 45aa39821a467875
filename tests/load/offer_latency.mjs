// Offer -> answer latency, sequential, with no other viewers: at the daemon
// socket and through nginx + whepcam-fcgi. Prints p50/p95 (ms) of N offers.
// Usage: node tests/load/offer_latency.mjs [N]
import fs from 'node:fs';
import { startStack } from '../lib/stack.mjs';

const N = Number(process.argv[2] || 40);
const offer = fs.readFileSync(new URL('../data/offer-chromium.sdp', import.meta.url), 'utf8');
const pct = (xs, p) => { const a = [...xs].sort((x, y) => x - y); return a[Math.min(a.length - 1, Math.floor(p * a.length))]; };
const s = await startStack({ daemonArgs: ['--log-level', 'warning'] });
try {
  const sock = [], http = [];
  for (let i = 0; i < N; i++) {
    let t = performance.now();
    const r = await s.daemon.request({ op: 'offer', stream: 'cam', sdp: offer });
    sock.push(performance.now() - t);
    await s.daemon.request({ op: 'delete', stream: 'cam', session: r.session });
    t = performance.now();
    const res = await fetch(`${s.base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer });
    await res.text();
    http.push(performance.now() - t);
    await fetch(s.base + res.headers.get('location'), { method: 'DELETE' });
  }
  console.log(`offer -> answer over ${N} offers (ms):`);
  console.log(`  daemon socket      p50 ${pct(sock, 0.5).toFixed(1)}  p95 ${pct(sock, 0.95).toFixed(1)}  first ${sock[0].toFixed(1)}`);
  console.log(`  HTTP through nginx p50 ${pct(http, 0.5).toFixed(1)}  p95 ${pct(http, 0.95).toFixed(1)}  first ${http[0].toFixed(1)}`);
} finally {
  await s.stop();
}
process.exit(0);
