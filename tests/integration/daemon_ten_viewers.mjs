// Ten real receivers offer over the daemon socket; each completes ICE/DTLS,
// starts on a keyframe and receives every packet the daemon sent it. On the
// direct path (mode lite) one payloader feeds every viewer of a stream: one
// SSRC, one sequence space, so viewer i was sent exactly the sequence numbers
// from its first one (its join keyframe) up to the stream's latest, and
// whepcam_rtp_packets_sent_total is the sum of those spans. From that sum we
// learn the latest sequence number sent and require each viewer to hold every
// number from its first to it: no gap, nothing cut short.
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { sentCounters } from '../lib/metrics.mjs';

const N = 10;

// An SDP's m-sections: { kind, port, proto, fmts, attrs: ['a=...'] }, in order.
function mSections(sdp) {
  return sdp.split('\r\nm=').slice(1).map((sec) => {
    const lines = sec.split('\r\n').filter(Boolean);
    const [kind, port, proto, ...fmts] = lines[0].split(' ');
    return { kind, port: Number(port), proto, fmts, attrs: lines.filter((l) => l.startsWith('a=')) };
  });
}
const attr = (sec, name) => sec.attrs.find((a) => a === `a=${name}` || a.startsWith(`a=${name}:`));

const d = await startDaemon({ args: ['--width', '640', '--height', '360'] });
try {
  const viewers = [];
  for (let i = 0; i < N; i++) {
    const r = await createReceiver({ audio: true, trackSeqs: true });
    const pt = Number(/\r\na=rtpmap:(\d+) VP8\/90000\r\n/.exec(r.offer)[1]);
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    assert.match(reply.session, /^[0-9a-f]{32}$/);
    assert.match(reply.etag, /^".+"$/);
    assert.match(reply.sdp, /\r\na=candidate:[^\r]* 127\.0\.0\.1 \d+ typ host/);
    assert.match(reply.sdp, /\r\na=end-of-candidates\r\n/);
    const offered = mSections(r.offer), answered = mSections(reply.sdp);
    assert.deepEqual(answered.map((m) => [m.kind, attr(m, 'mid')]), offered.map((m) => [m.kind, attr(m, 'mid')]),
      'one answer m-section per offered one, same kinds and mids, same order');
    const video = answered.find((m) => m.kind === 'video');
    const audio = answered.find((m) => m.kind === 'audio');
    assert.deepEqual(video.fmts, [String(pt)], 'the video m-line carries the offer\'s VP8 payload type only');
    assert.ok(attr(video, `rtpmap:${pt} VP8/90000`), 'answers with the offer\'s VP8 payload type');
    assert.ok(attr(video, 'sendonly'), 'video is sendonly');
    assert.ok(audio.port === 0 || (attr(audio, 'inactive') && !attr(audio, 'sendonly') && !attr(audio, 'sendrecv')),
      `the audio m-section is rejected (port 0) or inactive: ${audio.attrs.join(' ')}`);
    await r.accept(reply.sdp);
    viewers.push({ r, pt, session: reply.session });
  }
  await Promise.all(viewers.map(({ r }) => r.waitPackets(50, 15000)));
  const first = viewers.map(({ r }) => r.stats());
  for (const [i, { pt }] of viewers.entries()) {
    assert.equal(first[i].state, 'connected', 'ICE and DTLS completed');
    assert.equal(first[i].firstIsKeyframe, true, 'every viewer\'s first packet is a VP8 keyframe');
    assert.equal(first[i].payloadType, pt, 'RTP carries the offer\'s VP8 payload type');
    assert.equal(first[i].ssrc, first[0].ssrc, 'one payloader, one SSRC for every viewer');
  }
  console.log('packets kept from before the receiver\'s SRTP was ready:', first.map((s) => s.early).join(' '));

  // Each viewer's numbers, unwrapped, in viewer 0's frame (viewers joined
  // later, within far less than 32768 packets): shift[i] is 0 or 65536.
  const base = first[0].firstSeq;
  const shift = first.map((s) => base + ((s.firstSeq - base) & 0xffff) - s.firstSeq);
  const firsts = first.map((s, i) => s.firstSeq + shift[i]);
  // sent = Σ (last_i - first_i + 1), last_i the newest number sent to viewer i.
  // A read in the middle of a frame's fan-out can leave some last_i one frame
  // behind the rest, so the rounded-up mean is the newest number sent to, or
  // being sent to, every viewer.
  const { sent, resent } = await sentCounters(d);
  const last = Math.ceil((sent + firsts.reduce((a, b) => a + b, 0)) / N) - 1;
  const got = await Promise.all(viewers.map(({ r }, i) =>
    r.waitFor(() => r.missing(firsts[i] - shift[i], last - shift[i]).length === 0,
      { timeoutMs: 15000, what: `viewer ${i}: every packet up to ${last}` })
      .then(() => last - firsts[i] + 1)
      .catch((e) => { throw new Error(`${e.message}; missing ${r.missing(firsts[i] - shift[i], last - shift[i]).slice(0, 20).join(' ')}`); })));
  console.log(`daemon: ${sent} packets sent, ${resent} resent on NACKs; up to sequence number ${last} `
    + `each viewer holds its whole span: ${got.join(' ')} packets`);
  assert.ok(got.every((n) => n >= 50), 'every span covers the packets waited for');
  const streams = await d.request({ op: 'streams' });
  assert.equal(streams.streams[0].viewers, N);
  await Promise.all(viewers.map(({ r }) => r.close()));
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
