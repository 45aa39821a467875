// Hearing the test tone and seeing the test picture's flashes inside a
// browser page (Chromium by playwright, Firefox by puppeteer: both take
// page.evaluate(fn, arg)), and the lip-sync offset between them. The
// daemon's `audio = test` beeps at 1 kHz for 100 ms at every whole second of
// the stream's running time and, with a `test:` picture, paints the frames
// of those 100 ms white (daemon/media/audio.c): flash and beep are
// simultaneous at the source, so the offset a player shows between them is
// its lip-sync error.
//
// Beeps: an AudioWorklet on the received audio track, a Goertzel filter at
// 1 kHz over each render quantum (128 samples, 2.7 ms at 48 kHz); at a beep's
// onset it looks back for the first loud sample, so an onset is placed to the
// sample (Opus's own pre-echo, a few ms, is the limit), in the context's
// clock, then mapped to performance.now() time with getOutputTimestamp(): when
// that sample leaves the context's output. Flashes: requestVideoFrameCallback
// on the page's video element, each frame drawn to a 16x9 canvas and its mean
// luma read; a flash is the first bright frame after dark ones, at its
// expectedDisplayTime (performance.now() time; one display refresh of
// resolution), corrected by its RTP timestamp when the player did not show
// the flash's first frame (findFlashes). Positive offset: the sound comes
// after the picture.

// In the page: start listening to the video element's stream. Resolves when
// the worklet runs ({ running: true, sampleRate, … }: what it hears and sees
// accumulates in window.__sync), or with { running: false, state } when the
// page's AudioContext does not start within 3 s.
// Two test streams for the sound scenarios: `cam` with the beep (its
// picture flashes with it), `mute` with no sound at all.
export const SOUND_STREAMS = `[stream cam]
source = test:
width = 320
height = 240
audio = test
[stream mute]
source = test:
width = 320
height = 240
audio = none
`;

export function pageSyncStart(opts = {}) {
  return (async () => {
    const o = { selector: 'video', threshold: 0.05, ...opts };
    const video = document.querySelector(o.selector);
    const stream = video.srcObject;
    const track = stream && stream.getAudioTracks()[0];
    if (!track) throw new Error('no audio track on the video element');
    if (window.__sync) window.__sync.stop();
    // frames: [mean luma, expectedDisplayTime, rtpTimestamp, presentedFrames] of each frame shown
    const sync = window.__sync = { beeps: [], frames: [], quanta: 0, errors: [] };
    const code = `
      class BeepOnsets extends AudioWorkletProcessor {
        constructor(options) {
          super();
          this.threshold = options.processorOptions.threshold;
          this.coef = 2 * Math.cos(2 * Math.PI * 1000 / sampleRate);
          this.prev = new Float32Array(128);
          this.on = false; this.quiet = 0; this.n = 0;
        }
        process(inputs, outputs) {
          const x = inputs[0] && inputs[0][0];
          this.n++;
          if (!x) return true;
          let s1 = 0, s2 = 0, peak = 0;
          for (let i = 0; i < x.length; i++) {
            const s0 = x[i] + this.coef * s1 - s2; s2 = s1; s1 = s0;
            peak = Math.max(peak, Math.abs(x[i]));
          }
          // amplitude of the 1 kHz component over this quantum
          const amp = 2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - this.coef * s1 * s2)) / x.length;
          if (!this.on && amp > this.threshold) {
            // the first sample over a quarter of the tone's amplitude, in the
            // previous quantum or this one: the onset, to the sample
            const lim = amp / 4;
            let at = -1;
            for (let i = 0; i < 128 && at < 0; i++) if (Math.abs(this.prev[i]) > lim) at = i - 128;
            for (let i = 0; i < x.length && at < 0; i++) if (Math.abs(x[i]) > lim) at = i;
            this.on = true; this.quiet = 0;
            this.port.postMessage({ frame: currentFrame + at, amp });
          } else if (this.on) {
            this.quiet = amp < this.threshold / 2 ? this.quiet + x.length : 0;
            if (this.quiet > 0.3 * sampleRate) this.on = false; // 300 ms of quiet ends a beep
          }
          this.prev.set(x.length === 128 ? x : x.subarray(0, 128));
          if (this.n % 375 === 0) this.port.postMessage({ quanta: this.n });
          return true;
        }
      }
      registerProcessor('beep-onsets', BeepOnsets);`;
    // A browser with no audio output (headless Firefox: no device) never
    // starts a context: say so instead of waiting for ever.
    const ctx = new AudioContext();
    if (ctx.state !== 'running') {
      ctx.resume().catch(() => {});
      const t0 = performance.now();
      while (ctx.state !== 'running' && performance.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 50));
    }
    if (ctx.state !== 'running') {
      const state = ctx.state;
      ctx.close().catch(() => {});
      window.__sync = null;
      return { running: false, state };
    }
    const url = URL.createObjectURL(new Blob([code], { type: 'application/javascript' }));
    await ctx.audioWorklet.addModule(url);
    const node = new AudioWorkletNode(ctx, 'beep-onsets', { processorOptions: { threshold: o.threshold } });
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const mute = ctx.createGain();
    mute.gain.value = 0;
    // Pulled through a silent gain to the output: a worklet's quanta run
    // only when something downstream asks for them.
    source.connect(node).connect(mute).connect(ctx.destination);
    node.port.onmessage = (ev) => {
      if (ev.data.quanta) { sync.quanta = ev.data.quanta; return; }
      const ts = ctx.getOutputTimestamp();
      const t = ev.data.frame / ctx.sampleRate;
      sync.beeps.push({ at: ts.performanceTime + (t - ts.contextTime) * 1000, ctxTime: t, amp: ev.data.amp });
    };
    const canvas = document.createElement('canvas');
    canvas.width = 16; canvas.height = 9;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    let stopped = false;
    const onFrame = (now, meta) => {
      if (stopped) return;
      try {
        g.drawImage(video, 0, 0, 16, 9);
        const px = g.getImageData(0, 0, 16, 9).data;
        let sum = 0;
        for (let i = 0; i < px.length; i += 4) sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
        if (sync.frames.length < 20000)
          sync.frames.push([Math.round(sum / (px.length / 4)), meta.expectedDisplayTime, meta.rtpTimestamp ?? null, meta.presentedFrames]);
      } catch (e) {
        if (sync.errors.length < 5) sync.errors.push(String(e));
      }
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
    sync.outputLatency = ctx.outputLatency ?? null;
    sync.baseLatency = ctx.baseLatency ?? null;
    sync.sampleRate = ctx.sampleRate;
    sync.stop = () => { stopped = true; source.disconnect(); ctx.close().catch(() => {}); };
    // Wait for the worklet's first report: the context really renders.
    const t0 = performance.now();
    while (sync.quanta === 0 && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
    if (sync.quanta === 0) throw new Error(`the AudioContext does not render (state ${ctx.state})`);
    return { running: true, sampleRate: ctx.sampleRate, baseLatency: sync.baseLatency, outputLatency: sync.outputLatency };
  })();
}

// In the page: what pageSyncStart has gathered so far.
export function pageSyncRead() {
  const s = window.__sync;
  return s ? { beeps: s.beeps, frames: s.frames, quanta: s.quanta, errors: s.errors,
    outputLatency: s.outputLatency, baseLatency: s.baseLatency } : null;
}

// The flashes among the frames shown: a bright frame (mean luma >= 200: the
// test pictures' own stay under 160) after a dark one. With RTP timestamps
// (WebRTC's requestVideoFrameCallback gives them) a flash whose first white
// frame was not shown (a frame the player dropped) is placed where its first
// would have been: the first white frame of every flash has the same RTP
// timestamp modulo a second (90,000), the smallest phase the flashes show;
// `late` is by how much the one shown came after it (ms).
export function findFlashes(frames, { bright = 200 } = {}) {
  const fl = [];
  for (let i = 1; i < frames.length; i++)
    if (frames[i][0] >= bright && frames[i - 1][0] < bright) fl.push({ at: frames[i][1], rtp: frames[i][2] });
  if (fl.length === 0 || fl.some((f) => f.rtp === null || f.rtp === undefined)) return fl.map((f) => ({ ...f, late: 0 }));
  const phase = (rtp) => ((((rtp - fl[0].rtp) >>> 0) % 90000) + 90000) % 90000;
  const phases = fl.map((f) => phase(f.rtp));
  const spread = (c) => Math.max(...phases.map((p) => (p - c + 90000) % 90000));
  const onset = phases.reduce((best, c) => (spread(c) < spread(best) ? c : best), phases[0]);
  return fl.map((f, k) => { const late = ((phases[k] - onset + 90000) % 90000) / 90; return { at: f.at - late, shownAt: f.at, late }; });
}

// Each flash paired with the beep nearest it (within 500 ms: beeps are a
// second apart): beep minus flash, ms.
export function syncOffsets(flashes, beeps) {
  const out = [];
  for (const f of flashes) {
    let best = null;
    for (const b of beeps) if (best === null || Math.abs(b.at - f.at) < Math.abs(best.at - f.at)) best = b;
    if (best && Math.abs(best.at - f.at) < 500) out.push(best.at - f.at);
  }
  return out;
}

// Median, spread (10th to 90th percentile), extremes; ms.
export function syncSummary(offsets) {
  const a = [...offsets].sort((x, y) => x - y);
  const q = (p) => (a.length ? a[Math.min(a.length - 1, Math.floor(p * a.length))] : NaN);
  const median = a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  return { n: a.length, median: a.length ? median : NaN, p10: q(0.1), p90: q(0.9), min: a[0] ?? NaN, max: a[a.length - 1] ?? NaN };
}

// Onset-to-onset intervals of a list of beeps (ms).
export function intervals(beeps) {
  const at = beeps.map((b) => b.at).sort((x, y) => x - y);
  return at.slice(1).map((t, i) => t - at[i]);
}
