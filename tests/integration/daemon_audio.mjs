// Sound (Opus) beside the picture and alone, on both ICE modes, from a
// stream with the test tone and one without: every offer shape a player
// makes (video only, audio + video, audio first, audio only) gets the
// answer it should, real werift receivers count what arrives, and each
// SSRC we send gets RTCP sender reports whose clock matches the media.
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { SOUND_STREAMS } from '../lib/sound.mjs';

const sections = (sdp) => sdp.split('\r\nm=').slice(1).map((sec) => {
  const lines = sec.split('\r\n').filter(Boolean);
  const [kind, port, , ...fmts] = lines[0].split(' ');
  return { kind, port: Number(port), fmts, attrs: lines.filter((l) => l.startsWith('a=')) };
});
const has = (sec, a) => sec.attrs.some((l) => l === `a=${a}` || l.startsWith(`a=${a}:`) || l.startsWith(`a=${a} `));

const config = SOUND_STREAMS;

async function join(d, stream, opts) {
  const r = await createReceiver(opts);
  const reply = await d.request({ op: 'offer', stream, sdp: r.offer });
  return { r, reply };
}

for (const mode of ['lite', 'full']) {
  const d = await startDaemon({ config, args: ['--ice-mode', mode] });
  try {
    // audio + video from a stream with sound
    {
      const { r, reply } = await join(d, 'cam', {});
      assert.equal(reply.status, 201, JSON.stringify(reply));
      const [v, a] = sections(reply.sdp);
      assert.equal(a.kind, 'audio');
      assert.ok(has(a, 'sendonly'), `${mode}: audio answered sendonly: ${a.attrs.join(' ')}`);
      assert.ok(a.attrs.some((l) => /^a=rtpmap:111 opus\/48000\/2$/i.test(l)), `${mode}: Opus at the offer's payload type`);
      assert.ok(has(a, 'ssrc'), `${mode}: the audio SSRC is announced`);
      assert.ok(has(v, 'sendonly'));
      await r.accept(reply.sdp);
      const st = await r.waitFor((s) => s.audioPackets >= 100 && s.packets >= 30, { timeoutMs: 15000, what: 'sound and picture' });
      assert.equal(st.audioPayloadType, 111);
      assert.equal(st.audioBeforeVideo, 0, 'no sound before the picture starts');
      assert.notEqual(st.audioSsrc, st.ssrc);
      // sender reports on both SSRCs, whose RTP clocks run at 90 kHz and 48 kHz against the wall clock
      const rs = await r.waitFor((s) => [s.ssrc, s.audioSsrc].every((x) => s.reports.filter((p) => p.ssrc === x).length >= 3),
        { timeoutMs: 20000, what: 'three sender reports on each SSRC' });
      for (const [ssrc, rate] of [[rs.ssrc, 90000], [rs.audioSsrc, 48000]]) {
        const sr = rs.reports.filter((p) => p.ssrc === ssrc);
        const [p, q] = [sr[1], sr[sr.length - 1]]; // the first may be sent before the clock is known
        const ticks = ((q.rtp - p.rtp) >>> 0) / rate * 1000, wall = q.ntpMs - p.ntpMs;
        assert.ok(wall > 0 && Math.abs(ticks - wall) < 0.1 * wall + 20, `${mode}: SR clock of ${rate} Hz: ${ticks.toFixed(0)} ms of RTP over ${wall.toFixed(0)} ms`);
        assert.ok(q.packets > 0 && q.octets > 0);
      }
      console.log(`${mode}: a+v ok: ${st.audioPackets} Opus, ${st.packets} video packets, ${rs.reports.length} SRs`);
      await r.close();
    }
    // audio first, and audio only
    {
      const { r, reply } = await join(d, 'cam', { audioFirst: true });
      assert.equal(reply.status, 201, JSON.stringify(reply));
      const [a, v] = sections(reply.sdp);
      assert.ok(a.kind === 'audio' && has(a, 'sendonly') && v.kind === 'video' && has(v, 'sendonly'));
      await r.accept(reply.sdp);
      await r.waitFor((s) => s.audioPackets >= 50 && s.packets >= 30, { timeoutMs: 15000, what: 'audio-first offer plays' });
      await r.close();
    }
    {
      const { r, reply } = await join(d, 'cam', { video: false });
      assert.equal(reply.status, 201, JSON.stringify(reply));
      const secs = sections(reply.sdp);
      assert.equal(secs.length, 1);
      assert.ok(has(secs[0], 'sendonly'));
      await r.accept(reply.sdp);
      const st = await r.waitFor((s) => s.audioPackets >= 50, { timeoutMs: 15000, what: 'audio-only offer plays' });
      assert.equal(st.packets, 0);
      assert.match(d.log(), /join from local, stream cam, opus pt 111/);
      await r.close();
    }
    // a stream without sound: audio inactive, video plays; audio only is refused with a reason
    {
      const { r, reply } = await join(d, 'mute', {});
      assert.equal(reply.status, 201, JSON.stringify(reply));
      const a = sections(reply.sdp).find((s) => s.kind === 'audio');
      assert.ok(a.port === 0 || has(a, 'inactive'), `${mode}: no sound: audio inactive`);
      await r.accept(reply.sdp);
      const st = await r.waitFor((s) => s.packets >= 30, { timeoutMs: 15000, what: 'video from the mute stream' });
      assert.equal(st.audioPackets, 0);
      await r.close();
      const only = await join(d, 'mute', { video: false });
      assert.equal(only.reply.status, 400, JSON.stringify(only.reply));
      assert.match(only.reply.detail ?? JSON.stringify(only.reply), /no active video m-line/);
      await only.r.close();
    }
    // video only from the stream with sound: no audio m-line, nothing but video
    {
      const { r, reply } = await join(d, 'cam', { audio: false });
      assert.equal(reply.status, 201);
      assert.equal(sections(reply.sdp).length, 1);
      await r.accept(reply.sdp);
      await r.waitFor((s) => s.packets >= 30, { timeoutMs: 15000, what: 'video only' });
      await r.close();
    }
  } finally {
    assert.equal(await d.stop(), 0);
  }
}
process.exit(0); // werift leaves timers behind
