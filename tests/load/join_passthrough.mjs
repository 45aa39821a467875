// How long a viewer waits to start when it joins a camera's H.264 passed
// through (tests/lib/rtsp_server.py, a 4 s GOP that nothing can shorten),
// in the ICE mode given, one join at a time, each at a random point of the
// GOP. werift: offer -> first keyframe at the viewer, beside the daemon's
// own offer -> first keyframe sent. chromium: the page's POST -> first frame
// shown, through nginx. Prints each join and the medians.
//   cd tests && node load/join_passthrough.mjs [full|lite] [joins=15] [werift|chromium] [small|720p]
// small: 640x360, 1000 kbps, the bouncing ball (the integration tests' camera);
// 720p: 1280x720, 2000 kbps, the moving SMPTE pattern (make bench's).
// BUILD=/path/to/build picks the whepcamd (and nginx set-up) to measure.
import { startDaemon, until } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';

const mode = process.argv[2] ?? 'full';
const joins = Number(process.argv[3] ?? 15);
const client = process.argv[4] ?? 'werift';
const camera = process.argv[5] ?? 'small';
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const keptRe = (sid) => new RegExp(`viewer ${sid}: first keyframe sent ([\\d.]+) ms after the offer( \\(the GOP kept, (\\d+) frames\\))?`);

const cam = await startRtspServer(camera === '720p' ? { gop: 120, size: '1280x720', kbps: 2000, pattern: 'smpte' } : { gop: 120 });
const args = ['--source', cam.url, '--rtsp-transport', 'tcp', '--ice-mode', mode, '--log-level', 'message'];
const times = [], sent = [];

// werift: one join; [offer -> first keyframe at the viewer, the daemon's line].
async function weriftJoin(d) {
  const r = await createReceiver({ h264First: true, h264Profile: '64001f' });
  const t0 = performance.now();
  const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  if (reply.status !== 201) throw new Error(JSON.stringify(reply));
  await r.accept(reply.sdp);
  const st = await r.waitFor((s) => s.keyframes >= 1, { timeoutMs: 15000, what: 'first keyframe' });
  const line = await until(() => keptRe(reply.session.slice(0, 8)).exec(d.log()), { what: 'the daemon\'s line' });
  await d.request({ op: 'delete', stream: 'cam', session: reply.session });
  await r.close();
  return [st.firstKeyframeAt - t0, line];
}

// Chromium: one click on the page; [POST -> first frame shown, the daemon's line].
async function chromiumJoin(s, page) {
  await page.click('#start');
  await page.waitForFunction(() => window.whepcam.postToFirstFrameMs !== null, null, { timeout: 20000 });
  const { ms, session } = await page.evaluate(() => ({ ms: window.whepcam.postToFirstFrameMs, session: window.whepcam.session }));
  const line = await until(() => keptRe(session.split('/').pop().slice(0, 8)).exec(s.daemon.log()), { what: 'the daemon\'s line' });
  await page.click('#stop');
  return [ms, line];
}

const s = client === 'chromium' ? await startStack({ daemonArgs: args }) : null;
const d = s ? s.daemon : await startDaemon({ args });
const browser = client === 'chromium' ? await launchChromium() : null;
try {
  await until(async () => (await d.request({ op: 'streams' })).streams[0].state === 'live', { timeoutMs: 15000, what: 'stream live' });
  await sleep(1000);
  let page = null;
  if (browser) {
    page = await browser.newPage();
    await page.goto(s.base + '/');
    await page.waitForFunction(() => document.querySelector('#stream option') !== null);
  }
  for (let i = 0; i < joins; i++) {
    await sleep(500 + Math.random() * 4000); // anywhere in the GOP
    const [ms, line] = browser ? await chromiumJoin(s, page) : await weriftJoin(d);
    times.push(ms);
    sent.push(Number(line[1]));
    console.log(`join ${i}: ${browser ? 'POST -> first frame' : 'offer -> first keyframe at werift'} ${ms.toFixed(0)} ms, ` +
      `first keyframe sent ${line[1]} ms after the offer` + (line[3] ? ` (the GOP kept, ${line[3]} frames)` : ' (a live keyframe)'));
  }
  console.log(`${mode}, ${client}, ${camera} camera: ${joins} joins, ${browser ? 'POST -> first frame' : 'offer -> first keyframe'} ` +
    `median ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}); ` +
    `daemon's offer -> first keyframe sent: median ${median(sent).toFixed(0)} ms`);
} finally {
  await browser?.close();
  if (s) await s.stop(); else await d.stop();
  await cam.stop();
}
process.exit(0);
