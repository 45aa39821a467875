// Ten real receivers offer over the daemon socket; each completes ICE/DTLS,
// starts on a keyframe and receives the stream at the encoder's packet rate.
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver, packetsOver } from '../lib/peer.mjs';

const N = 10;
const d = await startDaemon({ args: ['--width', '640', '--height', '360'] });
try {
  const viewers = [];
  for (let i = 0; i < N; i++) {
    const r = await createReceiver({ audio: true });
    const pt = Number(/\r\na=rtpmap:(\d+) VP8\/90000\r\n/.exec(r.offer)[1]);
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    assert.match(reply.session, /^[0-9a-f]{32}$/);
    assert.match(reply.etag, /^".+"$/);
    assert.match(reply.sdp, /\r\na=candidate:[^\r]* 127\.0\.0\.1 \d+ typ host/);
    assert.match(reply.sdp, /\r\na=end-of-candidates\r\n/);
    assert.match(reply.sdp, new RegExp(`\r\na=rtpmap:${pt} VP8/90000\r\n`), 'answers with the offer\'s VP8 payload type');
    assert.match(reply.sdp, new RegExp(`\r\nm=video \\d+ [A-Z/]+ ${pt}\r\n`), 'the video m-line carries VP8 only');
    assert.match(reply.sdp, /m=audio 0 |a=inactive/, 'the audio m-line is rejected or inactive');
    await r.accept(reply.sdp);
    viewers.push({ r, pt, session: reply.session });
  }
  await Promise.all(viewers.map(({ r }) => r.waitPackets(50, 15000)));
  for (const { r, pt } of viewers) {
    const s = r.stats();
    assert.equal(s.state, 'connected', 'ICE and DTLS completed');
    assert.equal(s.firstIsKeyframe, true, 'every viewer\'s first packet is a VP8 keyframe');
    assert.equal(s.payloadType, pt, 'RTP carries the offer\'s VP8 payload type');
  }
  console.log('packets kept from before the receiver\'s SRTP was ready:', viewers.map(({ r }) => r.stats().early).join(' '));
  const rates = await Promise.all(viewers.map(({ r }) => packetsOver(r, 3000)));
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(N / 2)];
  console.log('packets per viewer over 3 s:', rates.join(' '), 'median', median);
  assert.ok(median > 30, `the stream flows (median ${median} packets in 3 s)`);
  for (const n of rates) assert.ok(n >= 0.9 * median, `every viewer gets the stream's rate: ${n} vs median ${median}`);
  const streams = await d.request({ op: 'streams' });
  assert.equal(streams.streams[0].viewers, N);
  await Promise.all(viewers.map(({ r }) => r.close()));
} finally {
  console.log('daemon exit', await d.stop());
}
process.exit(0);
