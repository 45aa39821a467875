// What whep_rx itself costs: one stack (720p30, 2 Mbps, the bench's
// source), N whep_rx viewers, a window of W seconds, for each set of whep_rx
// options in turn (a fresh whep_rx each): its CPU per viewer, the packets per
// viewer it counted against what the daemon sent, and its syscalls.
// Usage: node tests/load/rx_cost.mjs [N=150] [W=10] ['--tick-ms 20' '--tick-ms 50' …]
// (DAEMON_ARGS='--encoder-speed 16' adds whepcamd options: on a busy box a
// cheaper encoder keeps the stream at its 30 fps, so whep_rx sees 2 Mbps.)
import { startStack } from '../lib/stack.mjs';
import { startFleet, setViewers, serverWindow, ask, sleep, median } from './fleet.mjs';
import { sentCounters } from '../lib/metrics.mjs';

const N = Number(process.argv[2] || 150), W = Number(process.argv[3] || 10);
const variants = process.argv.length > 4 ? process.argv.slice(4) : ['--tick-ms 20'];
const s = await startStack({ daemonArgs: ['--width', '1280', '--height', '720', '--fps', '30', '--bitrate-kbps', '2000',
  '--source', 'test:smpte', '--max-viewers', String(N + 50), '--log-level', 'warning',
  ...(process.env.DAEMON_ARGS ?? '').split(' ').filter(Boolean)] });
try {
  for (const v of variants) {
    const fleet = await startFleet(1, null, { receiver: 'c', args: v.split(' ').filter(Boolean) });
    try {
      const j = await setViewers(fleet, { kind: 'whep', base: s.base }, N);
      await sleep(2000);
      const l0 = (await ask(fleet.workers[0], { cmd: 'stats' })).loop;
      let sent0 = 0;
      const w = await serverWindow(fleet, s.daemon.pid, W * 1000, { extra: async () => (await sentCounters(s.daemon)).sent });
      sent0 = w.extra[0];
      const l1 = (await ask(fleet.workers[0], { cmd: 'stats' })).loop;
      const sent = (w.extra[1] - sent0) / w.secs / N;
      const per = (k) => ((l1[k] - l0[k]) / w.secs / N).toFixed(1);
      console.log(`${v.padEnd(24)} N=${fleet.held()} (${j.failed} failed${j.failed ? ` ${JSON.stringify(j.reasons)}` : ''}): whep_rx ${w.clientCpu.toFixed(2)} % of a core, ` +
        `${(w.clientCpu / N).toFixed(4)} %/viewer; pkt/s min ${Math.min(...w.rates).toFixed(0)} med ${median(w.rates).toFixed(0)} of ${sent.toFixed(0)} sent; ` +
        `per viewer and s: ${per('recvCalls')} recvmmsg, ${per('datagrams')} datagrams; loop ${((l1.wakeups - l0.wakeups) / w.secs).toFixed(0)} wakeups/s; daemon ${w.cpu.toFixed(0)} %`);
      await setViewers(fleet, { kind: 'whep', base: s.base }, 0);
    } finally {
      fleet.stop();
    }
  }
} finally {
  await s.stop();
}
process.exit(0);
