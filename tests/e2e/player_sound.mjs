// Sound in real browsers through nginx + whepcam-fcgi + whepcamd, on both
// ICE modes: a stream with the test tone (`audio = test`: a 1 kHz beep of
// 100 ms at every whole second, the test picture white for the same 100 ms)
// and one without sound.
//
// Chromium, the project's page: the sound box (unmute button, level meter)
// shows only for the stream with sound; the page starts muted, Unmute and
// Mute switch the video element and the button; the meter's level rises at
// each beep and falls between them; getStats() has inbound audio/opus with
// packets, and a remote-outbound-rtp for the audio (a sender report came);
// the stats panel names the codec and its loss. An AudioWorklet in the page
// hears the beeps (tests/lib/sound.mjs), about one a second; and the lip
// sync, the median offset between each white flash shown (by
// requestVideoFrameCallback) and the beep heard with it, is within ±100 ms
// (a correctness check that a loaded machine still passes; make bench
// measures it to ±45 ms). The stream without sound: no sound box, no audio.
//
// Firefox (firefox-esr over WebDriver BiDi), the same page: the sound box
// shows, muted; getStats() has Opus packets received. Headless Firefox with
// no sound device starts no AudioContext (it stays suspended): where one
// runs, the worklet must hear the beeps, and the offset is printed, not judged.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { launchChromium } from '../lib/browser.mjs';
import { launchFirefox } from '../lib/firefox.mjs';
import { until } from '../lib/daemon.mjs';
import { enterPrivateNetwork, TEST_ADDR } from '../lib/netns.mjs';
import { SOUND_STREAMS, pageSyncStart, pageSyncRead, findFlashes, syncOffsets, syncSummary, intervals } from '../lib/sound.mjs';

enterPrivateNetwork(); // Firefox's candidates (tests/lib/netns.mjs)
const SYNC_LIMIT_MS = 100;
const SETTLE_MS = 4000; // players line sound and picture up over their first seconds
const LISTEN_MS = 10000;
const config = SOUND_STREAMS;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : String(x));

// The page's own view of the session's sound: what a user sees.
const pageSound = () => ({
  hasAudio: window.whepcam.hasAudio, muted: window.whepcam.muted, elementMuted: document.querySelector('video').muted,
  boxHidden: document.querySelector('#sound').hidden, button: document.querySelector('#unmute').textContent,
  level: window.whepcam.audioLevel, meter: Number(document.querySelector('#level').getAttribute('aria-valuenow')),
  stats: window.whepcam.audioStats, statsText: document.querySelector('#s-audio').textContent,
});

// getStats(): the audio's inbound-rtp and its codec, and its remote-outbound-rtp.
const pageAudioStats = () => (async () => {
  const report = await window.whepcam.peerConnection().getStats();
  let inbound = null, remote = null;
  report.forEach((r) => {
    if (r.type === 'inbound-rtp' && r.kind === 'audio') inbound = r;
    if (r.type === 'remote-outbound-rtp' && r.kind === 'audio') remote = r;
  });
  const codec = inbound && inbound.codecId ? report.get(inbound.codecId) : null;
  return { mimeType: codec ? codec.mimeType : null, packetsReceived: inbound ? inbound.packetsReceived : 0,
    packetsLost: inbound ? inbound.packetsLost : null,
    remote: remote ? { packetsSent: remote.packetsSent, reportsSent: remote.reportsSent, remoteTimestamp: remote.remoteTimestamp } : null };
})();

// playwright's (Chromium) waitForFunction takes (fn, arg, options), puppeteer's (Firefox) (fn, options).
const waitFor = (page, fn, timeout) => (page.isPlaywright ? page.waitForFunction(fn, null, { timeout }) : page.waitForFunction(fn, { timeout }));

async function play(page, base, stream) {
  await page.goto(`${base}/?stream=${stream}`);
  await waitFor(page, () => document.querySelector('#stream option') !== null, 10000);
  await page.click('#start');
  await waitFor(page, () => window.whepcam.framesDecoded() >= 30, 30000);
}

// Beeps, flashes and their offsets over LISTEN_MS, after SETTLE_MS of play.
async function listen(page, what) {
  await sleep(SETTLE_MS);
  const ctx = await page.evaluate(pageSyncStart);
  if (!ctx.running) {
    console.log(`${what}: the page's AudioContext does not start (${ctx.state}): nothing to listen with`);
    return { ctx };
  }
  await sleep(LISTEN_MS);
  const r = await page.evaluate(pageSyncRead);
  await page.evaluate(() => window.__sync.stop());
  const flashes = findFlashes(r.frames);
  const offsets = syncOffsets(flashes, r.beeps);
  const sum = syncSummary(offsets);
  const gaps = intervals(r.beeps);
  console.log(`${what}: AudioContext ${ctx.sampleRate} Hz (base latency ${ctx.baseLatency}, output ${ctx.outputLatency}); ` +
    `${r.beeps.length} beeps, intervals ${gaps.map((x) => x.toFixed(0)).join(' ')} ms; ${r.frames.length} frames shown, ${flashes.length} flashes ` +
    `(${flashes.filter((f) => f.late > 0).length} whose first white frame was not shown)`);
  console.log(`${what}: lip sync (beep - flash) median ${fmt(sum.median)} ms, p10 ${fmt(sum.p10)}, p90 ${fmt(sum.p90)}, ` +
    `n ${sum.n}: ${offsets.map((x) => x.toFixed(0)).join(' ')}`);
  return { ctx, r, flashes, offsets, sum, gaps };
}

const results = [];
const chromium = await launchChromium();
const firefox = await launchFirefox();
try {
  for (const mode of ['lite', 'full']) {
    const s = await startStack({ config, daemonArgs: ['--ice-mode', mode, '--ice-address', TEST_ADDR] });
    try {
      // ---- Chromium, the stream with sound ----
      const page = await chromium.newPage();
      page.isPlaywright = true;
      page.on('console', (m) => console.log('page:', m.text()));
      await play(page, s.base, 'cam');
      let st = await page.evaluate(pageSound);
      assert.ok(st.hasAudio && !st.boxHidden, `${mode}: the sound box shows for a stream with sound: ${JSON.stringify(st)}`);
      assert.ok(st.muted && st.elementMuted && st.button === 'Unmute', `${mode}: the page starts muted: ${JSON.stringify(st)}`);
      await page.click('#unmute');
      st = await page.evaluate(pageSound);
      assert.ok(!st.muted && !st.elementMuted && st.button === 'Mute', `${mode}: Unmute plays the sound: ${JSON.stringify(st)}`);
      await page.click('#unmute');
      st = await page.evaluate(pageSound);
      assert.ok(st.muted && st.elementMuted && st.button === 'Unmute', `${mode}: Mute mutes it again`);
      await page.click('#unmute');

      // The level meter: up at each beep, down between them (sampled every 20 ms for 3 s).
      const levels = await page.evaluate(async () => {
        const out = [];
        for (let i = 0; i < 150; i++) { out.push([window.whepcam.audioLevel, Number(document.querySelector('#level').getAttribute('aria-valuenow'))]); await new Promise((r) => setTimeout(r, 20)); }
        return out;
      });
      const hi = Math.max(...levels.map((x) => x[0])), lo = Math.min(...levels.map((x) => x[0]));
      console.log(`${mode}: level meter between ${lo.toFixed(2)} and ${hi.toFixed(2)} over 3 s`);
      assert.ok(hi >= 0.5 && lo <= 0.1, `${mode}: the level meter rises with each beep and falls between (${lo}..${hi})`);
      assert.ok(levels.some((x) => x[1] >= 50), `${mode}: the meter's bar (aria-valuenow) follows`);

      const heard = await listen(page, `chromium ${mode}`);
      assert.ok(heard.ctx.running, `${mode}: Chromium's AudioContext runs (its fake audio output)`);
      const beepsIn5s = heard.r.beeps.filter((b) => b.at - heard.r.beeps[0].at < 5000).length;
      assert.ok(beepsIn5s >= 4 && beepsIn5s <= 6, `${mode}: ${beepsIn5s} beeps heard in 5 s`);
      const period = syncSummary(heard.gaps).median;
      assert.ok(Math.abs(period - 1000) <= 50, `${mode}: beeps ${fmt(period)} ms apart, not about a second`);
      assert.ok(heard.sum.n >= 5, `${mode}: only ${heard.sum.n} flashes paired with a beep`);
      assert.ok(Math.abs(heard.sum.median) <= SYNC_LIMIT_MS, `${mode}: lip sync ${fmt(heard.sum.median)} ms, beyond ±${SYNC_LIMIT_MS} ms`);
      results.push(`chromium ${mode}: lip sync median ${fmt(heard.sum.median)} ms (p10 ${fmt(heard.sum.p10)}, p90 ${fmt(heard.sum.p90)}, n ${heard.sum.n})`);

      const stats = await page.evaluate(pageAudioStats);
      console.log(`${mode}: getStats ${JSON.stringify(stats)}`);
      assert.equal(stats.mimeType?.toLowerCase(), 'audio/opus');
      assert.ok(stats.packetsReceived > 0, 'Opus packets received');
      assert.ok(stats.remote && stats.remote.packetsSent > 0, `${mode}: remote-outbound-rtp for the audio: a sender report received`);
      await waitFor(page, () => (window.whepcam.audioStats?.packetsReceived ?? 0) > 0, 5000);
      st = await page.evaluate(pageSound);
      assert.equal(st.stats.codec, 'opus');
      assert.match(st.statsText, /^opus · \d+ lost/, 'the stats panel names the codec and its loss');
      await page.click('#stop');
      st = await page.evaluate(pageSound);
      assert.ok(st.boxHidden && !st.hasAudio && st.level === 0, `${mode}: Stop hides the sound box`);

      // ---- the stream without sound ----
      await play(page, s.base, 'mute');
      await sleep(1500); // a stats round
      st = await page.evaluate(pageSound);
      assert.ok(!st.hasAudio && st.boxHidden && st.stats === null && st.statsText === '–', `${mode}: no sound box without sound: ${JSON.stringify(st)}`);
      const none = await page.evaluate(pageAudioStats);
      assert.equal(none.packetsReceived, 0);
      await page.click('#stop');
      await page.close();

      // ---- Firefox, the stream with sound ----
      const fpage = await firefox.newPage();
      fpage.on('console', (m) => console.log('firefox page:', m.text()));
      await play(fpage, s.base, 'cam');
      st = await fpage.evaluate(pageSound);
      assert.ok(st.hasAudio && !st.boxHidden && st.muted, `firefox ${mode}: sound box, muted: ${JSON.stringify(st)}`);
      await fpage.click('#unmute');
      // Headless Firefox opens no audio output here (no sound device, no
      // PulseAudio): its AudioContext stays suspended and no analyser runs.
      // Where it does run, the beeps must be heard.
      const fheard = await listen(fpage, `firefox ${mode}`);
      if (fheard.ctx.running) assert.ok(fheard.r.beeps.length >= 5, `firefox ${mode}: the beeps heard (${fheard.r.beeps.length})`);
      const fstats = await fpage.evaluate(pageAudioStats);
      console.log(`firefox ${mode}: getStats ${JSON.stringify(fstats)}`);
      assert.equal(fstats.mimeType?.toLowerCase(), 'audio/opus');
      assert.ok(fstats.packetsReceived > 0);
      results.push(fheard.ctx.running ? `firefox ${mode}: ${fheard.r.beeps.length} beeps heard; lip sync median ${fmt(fheard.sum.median)} ms (p10 ${fmt(fheard.sum.p10)}, p90 ${fmt(fheard.sum.p90)}, n ${fheard.sum.n}), not judged`
        : `firefox ${mode}: ${fstats.packetsReceived} Opus packets received; no AudioContext runs in headless Firefox here (${fheard.ctx.state}): beeps not checked`);
      await fpage.click('#stop');
      await fpage.close();
      await until(async () => (await s.daemon.request({ op: 'streams' })).streams.every((x) => x.viewers === 0),
        { timeoutMs: 10000, what: `${mode}: the daemon back to 0 viewers` });
    } finally {
      await s.stop();
    }
  }
} finally {
  await chromium.close();
  await firefox.close();
}
console.log(results.join('\n'));
process.exit(0);
