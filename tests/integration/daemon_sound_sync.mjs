// Lip sync at the wire, on both ICE modes, with no browser: the test tone
// beeps at every whole second of the stream's running time and the test
// picture is white for the same 100 ms (daemon/media/audio.c). A werift
// receiver finds each beep's onset from the Opus packets' sizes (a tone's
// first packet is over twice the size of the silence's before it) and each
// flash's from the VP8 frames' sizes (the first white frame of a flash is
// under a third of the pattern's typical frame, the next ones a few dozen
// bytes), and maps both RTP timestamps to the sender
// reports' NTP clock of their own SSRC: what a player lines the two tracks up
// by. Flash and beep must come out within 50 ms of each other (the first
// white frame is the first frame at or after the whole second: up to 33 ms
// after the beep). This holds on a loaded
// machine: it reads the timestamps the daemon wrote, not when packets came.
// A sender report whose clock is off for one track (audio claimed 300 ms
// later: +297 ms here) fails it.
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const LISTEN_MS = 9000;
const LIMIT_MS = 50;
const config = '[stream cam]\nsource = test:\nwidth = 320\nheight = 240\naudio = test\n';
const median = (xs) => { const a = [...xs].sort((x, y) => x - y); return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2; };

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ config, args: ['--ice-mode', mode] });
  try {
    const r = await createReceiver({ h264: false });
    const sound = []; // [rtp timestamp, payload bytes] per Opus packet
    const frames = new Map(); // VP8 rtp timestamp -> payload bytes
    r.pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe((p) => {
      if (t.kind === 'audio') sound.push([p.header.timestamp, p.payload.length]);
      else frames.set(p.header.timestamp, (frames.get(p.header.timestamp) ?? 0) + p.payload.length);
    }));
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    await r.accept(reply.sdp);
    await r.waitFor((s) => s.audioPackets > 0 && s.packets > 0, { timeoutMs: 15000, what: `${mode}: sound and picture` });
    await new Promise((res) => setTimeout(res, LISTEN_MS));
    const st = r.stats();
    await r.close();
    // RTP -> NTP ms through the last sender report of that SSRC (rate: ticks per ms).
    const ntp = (ssrc, rate) => {
      const sr = st.reports.filter((x) => x.ssrc === ssrc).at(-1);
      assert.ok(sr, `${mode}: a sender report on SSRC ${ssrc}`);
      return (rtp) => sr.ntpMs + ((rtp - sr.rtp) | 0) / rate;
    };
    const audioNtp = ntp(st.audioSsrc, 48), videoNtp = ntp(st.ssrc, 90);

    // A beep starts with a packet at least twice the largest of the five
    // before it, a second (not less than 800 ms) after the last one. That
    // packet is the one before the beep's (a 100 ms beep makes 7 packets of
    // 20 ms, the first one smaller): Opus's overlap window carries the
    // tone's first 2.5 ms into it. So the beep is 20 ms after it.
    const OPUS_EARLY_MS = 20;
    const beeps = [];
    let last = -Infinity;
    for (let i = 5; i < sound.length; i++) {
      const t = audioNtp(sound[i][0]);
      if (sound[i][1] >= 2 * Math.max(...sound.slice(i - 5, i).map((x) => x[1])) && t - last > 800) { beeps.push(t + OPUS_EARLY_MS); last = t; }
    }
    const fs = [...frames.entries()].sort((a, b) => ((a[0] - b[0]) | 0));
    const typical = median(fs.map((x) => x[1]));
    // A loaded encoder drops frames (its queue is leaky): a flash whose first
    // white frame was dropped is placed where that frame was due. Every
    // flash's first frame has the same RTP timestamp modulo a second (90,000
    // ticks); the others are 3,000 or 6,000 ticks past it.
    const first = [];
    for (let i = 1; i < fs.length; i++)
      if (fs[i][1] < 0.35 * typical && fs[i - 1][1] >= 0.35 * typical) first.push(fs[i][0]);
    const phase = (rtp) => ((rtp - first[0]) >>> 0) % 90000;
    const spread = (c) => Math.max(...first.map((x) => (phase(x) - c + 90000) % 90000));
    const onset = first.map(phase).reduce((best, c) => (spread(c) < spread(best) ? c : best), 0);
    const flashes = first.map((x) => videoNtp(x - ((phase(x) - onset + 90000) % 90000)));
    const offsets = beeps.map((b) => flashes.reduce((best, f) => (Math.abs(b - f) < Math.abs(best) ? b - f : best), Infinity))
      .filter((x) => Math.abs(x) < 500);
    console.log(`${mode}: ${sound.length} Opus packets, ${fs.length} frames (typical ${typical} bytes); ` +
      `${beeps.length} beeps, ${flashes.length} flashes; beep - flash on the reports' clock: ${offsets.map((x) => x.toFixed(1)).join(' ')} ms`);
    assert.ok(beeps.length >= LISTEN_MS / 1000 - 1, `${mode}: a beep every second`);
    // (a flash all of whose three white frames were dropped is not seen)
    assert.ok(offsets.length >= LISTEN_MS / 2000, `${mode}: only ${offsets.length} beeps paired with a flash`);
    const m = median(offsets);
    assert.ok(Math.abs(m) <= LIMIT_MS, `${mode}: beep and flash ${m.toFixed(1)} ms apart on the sender reports' clock`);
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
process.exit(0); // werift leaves timers behind
