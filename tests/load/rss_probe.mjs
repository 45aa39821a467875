// RSS per viewer on a cheap stream (320x240, 300 kbps), for issue 17's memory
// target: a fresh stack, RSS at 0 viewers, then at N whep_rx viewers, then
// after they leave; optional churn (CHURN cycles of 25 joins and leaves).
// Usage: node tests/load/rss_probe.mjs N [CHURN]   (env: PAUSE=1 or PAUSE_AFTER=1: wait for
// stdin to close at N viewers or after they left, for gdb)
import fs from 'node:fs';
import { startStack } from '../lib/stack.mjs';
import { startFleet, setViewers, proc, sleep } from './fleet.mjs';

const n = Number(process.argv[2] || 1000);
const cycles = Number(process.argv[3] || 0);
// RSS_STREAM=WxH@kbps for another stream (the bench's: 1280x720@2000).
const [, w, h, kbps] = /^(\d+)x(\d+)@(\d+)$/.exec(process.env.RSS_STREAM || '320x240@300');
const s = await startStack({ daemonArgs: ['--width', w, '--height', h, '--fps', '30', '--bitrate-kbps', kbps,
  '--source', 'test:smpte', '--max-viewers', String(n + 50), '--log-level', 'message'] });
const pid = s.daemon.pid;
const smaps = () => Object.fromEntries(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')
  .map((l) => /^(\w+):\s+(\d+) kB/.exec(l)).filter(Boolean).map((m) => [m[1], Number(m[2])]));
const show = (what, p, sm) => console.log(`${what}: RSS ${(p.rssKb / 1024).toFixed(1)} MB (anon ${(sm.Anonymous / 1024).toFixed(1)}), fds ${p.fds}, threads ${p.threads}`);
const fleet = await startFleet(1, null, { receiver: 'c' });
const target = { kind: 'whep', base: s.base };
console.log(`daemon pid ${pid}`);
await sleep(3000);
const p0 = proc(pid), s0 = smaps();
show('0 viewers', p0, s0);
const j = await setViewers(fleet, target, n);
await sleep(3000);
const p1 = proc(pid), s1 = smaps();
show(`${j.joined.length} viewers (${j.failed} failed)`, p1, s1);
console.log(`per viewer: RSS ${((p1.rssKb - p0.rssKb) / n).toFixed(1)} KB, anon ${((s1.Anonymous - s0.Anonymous) / n).toFixed(1)} KB`);
if (process.env.PAUSE) {
  console.log('paused at N viewers; close stdin to go on');
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
}
await setViewers(fleet, target, 0);
await sleep(3000);
const p2 = proc(pid);
show('after leaving', p2, smaps());
if (process.env.PAUSE_AFTER) {
  console.log('paused after leaving; close stdin to go on');
  process.stdin.resume();
  await new Promise((r) => process.stdin.on('end', r));
}
if (cycles > 0) {
  const t0 = performance.now();
  let failed = 0;
  for (let done = 0; done < cycles; done += 25) {
    failed += (await setViewers(fleet, target, 25)).failed;
    await setViewers(fleet, target, 0);
    if ((done + 25) % 1000 === 0) show(`  ${done + 25} cycles`, proc(pid), smaps());
  }
  await sleep(5000);
  const p3 = proc(pid);
  show(`after ${cycles} churn cycles (${failed} failed) in ${((performance.now() - t0) / 1000).toFixed(0)} s`, p3, smaps());
  console.log(`churn growth: ${(((p3.rssKb - p2.rssKb) / p2.rssKb) * 100).toFixed(2)} %, fds ${p2.fds} -> ${p3.fds}, threads ${p2.threads} -> ${p3.threads}`);
}
await fleet.stop();
await s.stop();
process.exit(0);
