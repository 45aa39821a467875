// The test receiver's offer looks like a browser's recvonly offer: complete
// (non-trickle), loopback-only candidates, VP8 and H264 video, opus audio.
import assert from 'node:assert/strict';
import { createReceiver } from '../lib/peer.mjs';

for (const audio of [true, false]) {
  const r = await createReceiver({ audio });
  const o = r.offer;
  assert.match(o, /^v=0\r\n/);
  assert.match(o, /\r\na=group:BUNDLE /);
  const sections = o.split(/\r\n(?=m=)/).slice(1);
  assert.equal(sections.length, audio ? 2 : 1, 'one video m-line, plus audio when asked');
  const [video, aud] = sections;
  assert.match(video, /^m=video \d+ UDP\/TLS\/RTP\/SAVPF( \d+)+\r\n/);
  assert.match(video, /\r\na=recvonly\r\n/);
  assert.match(video, /\r\na=rtpmap:\d+ VP8\/90000\r\n/);
  assert.match(video, /\r\na=rtpmap:\d+ H264\/90000\r\n/);
  assert.match(video, /\r\na=rtcp-fb:\d+ nack pli\r\n/);
  assert.match(video, /\r\na=fingerprint:sha-256 [0-9A-F:]+\r\n/);
  assert.match(video, /\r\na=ice-ufrag:\S+\r\n/);
  if (audio) {
    assert.match(aud, /^m=audio \d+ UDP\/TLS\/RTP\/SAVPF /);
    assert.match(aud, /\r\na=recvonly\r\n/);
    assert.match(aud, /\r\na=rtpmap:\d+ opus\/48000\/2\r\n/);
  }
  const cands = o.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
  assert.ok(cands.length > 0, 'candidates are in the offer (non-trickle)');
  for (const c of cands) assert.match(c, / udp \d+ 127\.0\.0\.1 \d+ typ host/i, `loopback only: ${c}`);
  const s = r.stats();
  assert.equal(s.packets, 0);
  assert.equal(typeof s.createdAt, 'number');
  await r.close();
}
process.exit(0);
