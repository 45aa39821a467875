// make bench, a camera's H.264 passed through (issue 15): the test RTSP
// camera (tests/lib/rtsp_server.py: 1280x720@30, 2000 kbps, a 4 s GOP, the
// moving SMPTE pattern the VP8 run uses) as
// the source, whep_rx viewers offering H.264. The daemon's CPU at 0 and N
// viewers with no encoder running, each viewer's share beside the VP8
// stream's, delivery, and Chromium's first frame from the GOP kept.
import { startStack } from '../lib/stack.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';
import { until } from '../lib/daemon.mjs';
import { httpMetric as metric } from '../lib/metrics.mjs';
import { startFleet, setViewers, serverWindow, rxStats, sleep, median } from './fleet.mjs';

// { steps: [{ n, cpu, perViewer, … }], browser }: browserFirstFrame(stack, tries) is the bench's own.
// rxArgs: more of whep_rx's options (the main run's --gro).
export async function passthroughBench({ steps, windowS, browserTries, browserFirstFrame, rxArgs = [] }) {
  const cam = await startRtspServer({ size: '1280x720', gop: 120, kbps: 2000, pattern: 'smpte' });
  const s = await startStack({ daemonArgs: ['--source', cam.url, '--rtsp-transport', 'tcp', '--width', '1280',
    '--height', '720', '--max-viewers', String(Math.max(...steps) + 50), '--log-level', 'message'] });
  const fleet = await startFleet(1, null, { receiver: 'c', args: ['--h264', ...rxArgs] });
  const target = { kind: 'whep', base: s.base };
  const out = { steps: [] };
  try {
    await until(async () => (await (await fetch(`${s.base}/whep/`)).json()).streams[0].state === 'live',
      { timeoutMs: 20000, what: 'the camera stream is live' });
    for (const n of steps) {
      const j = await setViewers(fleet, target, n);
      await sleep(2000);
      const extra = async () => [await metric(s.base, 'whepcam_rtp_packets_sent_total'),
        await metric(s.base, 'whepcam_encoders_running{stream="cam"}')];
      const w = await serverWindow(fleet, s.daemon.pid, windowS * 1000, { extra });
      const [[sent0], [sent1, encoders]] = w.extra;
      const sent = n ? (sent1 - sent0) / w.secs / n : 0;
      const rx = await rxStats(fleet);
      out.steps.push({ n, failed: j.failed, cpu: w.cpu, rssMb: w.rssMb, threads: w.threads, encoders, sent,
        pktMin: n ? Math.min(...w.rates) : 0, pktMedian: n ? median(w.rates) : 0,
        below95: w.rates.filter((x) => x < 0.95 * sent).length, clientCpu: w.clientCpu,
        notKeyframeFirst: rx.filter((v) => !v.firstIsKeyframe).length });
    }
    await setViewers(fleet, target, 0);
    if (browserTries > 0) out.browser = await browserFirstFrame(s, browserTries);
  } finally {
    await fleet.stop();
    await s.stop();
    await cam.stop();
  }
  const base = out.steps.find((x) => x.n === 0);
  for (const x of out.steps) x.perViewer = x.n && base ? (x.cpu - base.cpu) / x.n : null;
  return out;
}
