// An RTSP camera's microphone (audio = auto, the default): the camera
// (tests/lib/rtsp_server.py) sends H.264 and a beep once a second as G.711
// mu-law or AAC; the daemon finds the track when the camera describes it,
// decodes it and encodes Opus once, and a viewer that offers sound hears it
// beside the camera's own H.264, on both ICE modes. A camera without sound
// gives no sound: the audio m-line stays inactive.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { startRtspServer } from '../lib/rtsp.mjs';

const audioSection = (sdp) => sdp.split('\r\nm=').find((s) => s.startsWith('audio'));

for (const [sound, mode] of [['pcmu', 'lite'], ['aac', 'full'], ['none', 'lite']]) {
  const cam = await startRtspServer({ gop: 30, audio: sound });
  const d = await startDaemon({ args: ['--source', cam.url, '--rtsp-transport', 'tcp', '--ice-mode', mode,
    '--width', '320', '--height', '240'] });
  try {
    await until(async () => (await d.request({ op: 'streams' })).streams[0].state === 'live', { timeoutMs: 15000, what: `${sound}: stream live` });
    if (sound !== 'none')
      await until(async () => /sound from rtsp:/.test(d.log()), { timeoutMs: 10000, what: `${sound}: the camera's sound found` });
    const r = await createReceiver({ h264First: true, h264Profile: '64001f' });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    const a = audioSection(reply.sdp);
    await r.accept(reply.sdp);
    if (sound === 'none') {
      assert.match(a, /a=inactive/, 'a camera without sound: audio inactive');
      const st = await r.waitFor((s) => s.keyframes >= 1 && s.frames >= 10, { timeoutMs: 15000, what: 'video' });
      assert.equal(st.audioPackets, 0);
      assert.doesNotMatch(d.log(), /sound from/);
    } else {
      assert.match(a, /a=sendonly/, `${sound}: audio answered sendonly`);
      assert.match(a, /a=rtpmap:111 opus\/48000\/2/i);
      const st = await r.waitFor((s) => s.audioPackets >= 100 && s.keyframes >= 1, { timeoutMs: 15000, what: `${sound}: Opus from the camera's sound` });
      assert.equal(st.codec, 'H264', 'the picture is still the camera\'s H.264');
      assert.equal(st.audioPayloadType, 111);
      console.log(`${sound} (${mode}): ${st.audioPackets} Opus packets, ${st.frames} H.264 frames`);
    }
    await r.close();
  } finally {
    assert.equal(await d.stop(), 0);
    await cam.stop();
  }
}
process.exit(0);
