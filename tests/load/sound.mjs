// make bench, sound (issue 16). Two figures:
// (a) what sound costs per viewer: the bench's stream (1280x720@30, 2000
//     kbps, moving SMPTE) with `audio = test` (Opus 48 kbps, 50 packets a
//     second), N whep_rx viewers offering video only, then N offering
//     video + Opus (whep_rx --audio), each window against the same daemon's
//     0-viewer window: % of a core per viewer, whole process and without the
//     source and encoder threads (videotestsrc0:src; queue0:src, the VP8
//     encoder's own thread behind its leaky queue, and the libvpx workers
//     named after it; audiotestsrc0:src with opusenc), repeated `reps` times
//     in turn. Every viewer must get >= 95 % of what was sent, its sound too.
// (b) lip sync in Chromium, per ICE mode: the project's page plays a 320x240
//     test stream with the test tone (small: on a 2-core box a starved
//     decoder drops the flashes' frames); after `settleS` seconds, the offset
//     between each white flash shown and the beep heard with it over
//     `syncS` seconds (tests/lib/sound.mjs), median and spread.
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { httpMetric as metric } from '../lib/metrics.mjs';
import { pageSyncStart, pageSyncRead, findFlashes, syncOffsets, syncSummary, intervals } from '../lib/sound.mjs';
import { startFleet, setViewers, serverWindow, rxStats, ask, sleep, median } from './fleet.mjs';

const SKIP = /^(videotestsrc|audiotestsrc|queue0:src)/;

async function cpuRows({ n, windowS, reps, iceMode }) {
  const s = await startStack({
    config: '[stream cam]\nsource = test:smpte\nwidth = 1280\nheight = 720\nfps = 30\nbitrate-kbps = 2000\naudio = test\n',
    daemonArgs: ['--source', 'test:smpte', '--max-viewers', String(n + 50), '--log-level', 'message', '--ice-mode', iceMode] });
  const plain = await startFleet(1, null, { receiver: 'c' });
  const sound = await startFleet(1, null, { receiver: 'c', args: ['--audio'] });
  const target = { kind: 'whep', base: s.base };
  const windows = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      for (const [kind, fleet] of [['none', null], ['video', plain], ['video+sound', sound]]) {
        const j = fleet ? await setViewers(fleet, target, n) : { failed: 0 };
        await sleep(2000);
        const extra = async () => [await metric(s.base, 'whepcam_rtp_packets_sent_total'),
          fleet ? (await ask(fleet.workers[0], { cmd: 'counts' })).audioCounts : []];
        const w = await serverWindow(fleet ?? { workers: [], held: () => 0 }, s.daemon.pid, windowS * 1000, { skip: SKIP, extra });
        const [[sent0, a0], [sent1, a1]] = w.extra;
        const held = fleet ? fleet.held() : 0;
        const sent = held ? (sent1 - sent0) / w.secs / held : 0;
        const audioRates = a1.map((x, i) => (x - (a0[i] ?? 0)) / w.secs);
        const rx = fleet ? await rxStats(fleet) : [];
        windows.push({ rep, kind, n: held, failed: j.failed, cpu: w.cpu, relayCpu: w.relayCpu, clientCpu: w.clientCpu, sent,
          below95: w.rates.filter((x) => x < 0.95 * sent).length,
          audioMedian: audioRates.length ? median(audioRates) : 0, audioMin: audioRates.length ? Math.min(...audioRates) : 0,
          audioBeforeVideo: rx.reduce((a, v) => a + v.audioBeforeVideo, 0),
          srAudio: rx.filter((v) => v.srAudio > 0).length, audioDecryptFail: rx.reduce((a, v) => a + v.audioDecryptFail, 0) });
        console.log(`sound bench rep ${rep} ${kind} N=${held}: cpu ${w.cpu.toFixed(1)}% (relay ${w.relayCpu.toFixed(1)}%) client ${w.clientCpu.toFixed(0)}%` +
          (held ? ` pkt/s sent ${sent.toFixed(0)} per viewer, ${windows.at(-1).below95} under 95 %` : '') +
          (kind === 'video+sound' ? `, Opus pkt/s med ${windows.at(-1).audioMedian.toFixed(1)} min ${windows.at(-1).audioMin.toFixed(1)}` : ''));
        if (fleet) await setViewers(fleet, target, 0);
      }
    }
  } finally {
    await plain.stop();
    await sound.stop();
    await s.stop();
  }
  // Per viewer, against the same repetition's 0-viewer window; medians over repetitions.
  const per = (kind, k) => median(windows.filter((w) => w.kind === kind).map((w) => {
    const base = windows.find((b) => b.rep === w.rep && b.kind === 'none');
    return w.n ? (w[k] - base[k]) / w.n : NaN;
  }));
  const rows = ['video', 'video+sound'].map((kind) => {
    const ws = windows.filter((w) => w.kind === kind);
    return { kind, n: Math.min(...ws.map((w) => w.n)), perViewer: per(kind, 'cpu'), relayPerViewer: per(kind, 'relayCpu'),
      cpu: median(ws.map((w) => w.cpu)), relayCpu: median(ws.map((w) => w.relayCpu)), sent: median(ws.map((w) => w.sent)),
      below95: Math.max(...ws.map((w) => w.below95)), failed: ws.reduce((a, w) => a + w.failed, 0),
      audioMin: Math.min(...ws.map((w) => w.audioMin)), audioMedian: median(ws.map((w) => w.audioMedian)),
      audioBeforeVideo: ws.reduce((a, w) => a + w.audioBeforeVideo, 0), srAudio: Math.min(...ws.map((w) => w.srAudio)),
      audioDecryptFail: ws.reduce((a, w) => a + w.audioDecryptFail, 0) };
  });
  const none = windows.filter((w) => w.kind === 'none');
  return { n, windows, rows, base: { cpu: median(none.map((w) => w.cpu)), relayCpu: median(none.map((w) => w.relayCpu)) } };
}

async function syncRow({ mode, syncS, settleS }) {
  const s = await startStack({
    config: '[stream cam]\nsource = test:\nwidth = 320\nheight = 240\naudio = test\n',
    daemonArgs: ['--log-level', 'message', '--ice-mode', mode] });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${s.base}/?stream=cam`);
    await page.waitForFunction(() => document.querySelector('#stream option') !== null);
    await page.click('#start');
    await page.waitForFunction(() => window.whepcam.framesDecoded() >= 30, null, { timeout: 20000 });
    await page.click('#unmute');
    await sleep(settleS * 1000);
    await page.evaluate(pageSyncStart);
    await sleep(syncS * 1000);
    const r = await page.evaluate(pageSyncRead);
    const flashes = findFlashes(r.frames);
    const offsets = syncOffsets(flashes, r.beeps);
    const fps = r.frames.length / syncS;
    return { mode, ...syncSummary(offsets), offsets, beeps: r.beeps.length, period: median(intervals(r.beeps)),
      flashes: flashes.length, lateFlashes: flashes.filter((f) => f.late > 0).length, shownFps: fps };
  } finally {
    await browser.close();
    await s.stop();
  }
}

// { cpu: cpuRows' result or null, sync: [syncRow per mode] }
export async function soundBench({ n, windowS, reps, iceMode, syncS, settleS = 5, syncModes }) {
  const out = { cpu: null, sync: [] };
  if (n > 0) out.cpu = await cpuRows({ n, windowS, reps, iceMode });
  if (syncS > 0) for (const mode of syncModes) out.sync.push(await syncRow({ mode, syncS, settleS }));
  return out;
}
