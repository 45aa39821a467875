// A clip's own sound (audio = auto): an H.264 + AAC clip, passed through
// for the picture, its AAC decoded and encoded to Opus once; a viewer that
// offers sound hears it across the clip's loops: its RTP timestamps never
// go back and advance at 48 kHz against the time the packets take to
// arrive (the sound is paced as the picture is, not read as fast as the
// disk goes), with no loop leaving a gap longer than a frame or two.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeClip, watchTimestamps } from '../lib/clip.mjs';
import { startDaemon, until } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const CLIP_S = 2.5;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-clip-'));
const clip = makeClip(path.join(dir, 'clip.mp4'), { seconds: CLIP_S, gop: 30, audio: true });
const loops = (d) => (d.log().match(/stream cam: end of the clip/g) ?? []).length;

try {
  const d = await startDaemon({ args: ['--source', `file:${clip}`, '--width', '320', '--height', '240'] });
  try {
    await until(async () => /stream cam: sound from file:/.test(d.log()), { timeoutMs: 15000, what: 'the clip\'s sound found' });
    const r = await createReceiver({ h264First: true, h264Profile: '64001f' });
    const sound = watchTimestamps(r, 'audio');
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    assert.match(reply.sdp, /m=audio[^]*a=sendonly[^]*a=rtpmap:111 opus\/48000\/2/);
    await r.accept(reply.sdp);
    await r.waitFor((s) => s.audioPackets >= 20, { timeoutMs: 15000, what: 'sound' });
    const since = performance.now(), loopsBefore = loops(d);
    await until(async () => loops(d) >= loopsBefore + 2, { timeoutMs: 20000, what: 'two loops of the clip' });
    const c = sound.check(5, since);
    console.log(`sound over ${loops(d) - loopsBefore} loops: ${c.packets} packets, RTP ${c.rtpS.toFixed(2)} s over ${c.wallS.toFixed(2)} s (x${c.ratio.toFixed(2)}), longest gap ${c.maxGapMs.toFixed(0)} ms, ${c.back} steps back`);
    assert.equal(c.back, 0, 'the sound\'s RTP timestamps never go back across a loop');
    assert.ok(c.ratio > 0.7 && c.ratio < 1.3, `sound at its own pace: RTP x${c.ratio.toFixed(2)} of the wall clock`);
    assert.ok(c.maxGapMs < 1000, `no loop leaves the sound silent for long: ${c.maxGapMs.toFixed(0)} ms`);
    await r.close();
  } finally {
    assert.equal(await d.stop(), 0);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
