// Where Chromium's click -> first frame goes, try by try: the page's own
// milestones (window.whepcam.timings) beside the daemon's "first keyframe
// sent" log line. Usage: cd tests && node load/first_frame.mjs [tries] [daemon args...]
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';

const tries = Number(process.argv[2] ?? 10);
const s = await startStack({ daemonArgs: ['--width', '1280', '--height', '720', '--fps', '30', '--bitrate-kbps', '2000',
  '--source', 'test:smpte', '--log-level', 'message', ...process.argv.slice(3)] });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(s.base + '/');
  await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  const rows = [];
  for (let i = 0; i < tries; i++) {
    const logAt = s.daemon.log().length;
    await page.click('#start');
    await page.waitForFunction(() => window.whepcam.firstFrameMs !== null, null, { timeout: 20000 });
    const t = await page.evaluate(async () => {
      const out = { ...window.whepcam.timings };
      const rt = performance.getEntriesByType('resource').filter((e) => e.initiatorType === 'fetch' && /\/whep\/cam$/.test(e.name));
      const e = rt[rt.length - 1];
      if (e) Object.assign(out, { fetchStart: Math.round(e.fetchStart), connect: Math.round(e.connectEnd - e.connectStart),
        requestToResponse: Math.round(e.responseStart - e.requestStart), startToRequest: Math.round(e.requestStart - e.startTime), dur: Math.round(e.duration) });
      const stats = await window.whepcam.peerConnection().getStats();
      stats.forEach((r) => {
        if (r.type !== 'inbound-rtp' || r.kind !== 'video') return;
        out.jitterMs = Math.round(1000 * r.jitterBufferDelay / Math.max(1, r.jitterBufferEmittedCount));
        out.decodeMs = Math.round(1000 * r.totalDecodeTime / Math.max(1, r.framesDecoded));
        out.processingMs = Math.round(1000 * (r.totalProcessingDelay ?? 0) / Math.max(1, r.framesDecoded));
        out.assemblyMs = Math.round(1000 * (r.totalAssemblyTime ?? 0) / Math.max(1, r.framesAssembledFromMultiplePackets ?? 1));
        out.decoded = r.framesDecoded;
      });
      return out;
    });
    const log = s.daemon.log().slice(logAt);
    const key = /first keyframe sent ([\d.]+) ms/.exec(log);
    const conn = /connected after ([\d.]+) ms/.exec(log);
    t.keySentAfterPost = key ? Number(key[1]) : null;
    t.connectedAfterPost = conn ? Number(conn[1]) : null;
    rows.push(t);
    console.log(JSON.stringify(t));
    await page.click('#stop');
    await page.waitForFunction(() => window.whepcam.state === 'stopped');
  }
  const med = (k) => { const v = rows.map((r) => r[k]).filter((x) => x != null).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
  console.log('median', JSON.stringify(Object.fromEntries(Object.keys(rows[0]).map((k) => [k, med(k)]))));
} finally {
  await browser.close();
  await s.stop();
}
