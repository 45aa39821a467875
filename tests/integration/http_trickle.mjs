// WHEP trickle (RFC 8840 fragments by PATCH), in both ICE modes: a peer
// offers with no candidates, trickles them one at a time, and plays. Wrong
// ETag: 412. An ICE restart (new ufrag/pwd): mode lite answers 200 with its
// own new ufrag/pwd and candidates as a trickle-ice-sdpfrag and a new ETag
// (the old one then gets 412); mode full (webrtcbin 1.22) answers 422. Either
// way the session keeps playing.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { createReceiver } from '../lib/peer.mjs';

const patch = (url, body, headers = {}) => fetch(url, {
  method: 'PATCH', headers: { 'Content-Type': 'application/trickle-ice-sdpfrag', ...headers }, body,
});
for (const mode of ['lite', 'full']) {
  const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240', '--log-level', 'info', '--ice-mode', mode] });
  try {
    const r = await createReceiver({ audio: true });
    const lines = r.offer.split('\r\n');
    const cands = lines.filter((l) => l.startsWith('a=candidate:'));
    const ufrag = lines.find((l) => l.startsWith('a=ice-ufrag:'));
    const pwd = lines.find((l) => l.startsWith('a=ice-pwd:'));
    const mid = lines.find((l) => l.startsWith('a=mid:'));
    assert.ok(cands.length > 0);
    const bare = lines.filter((l) => !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates').join('\r\n');
    const res = await fetch(`${s.base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: bare });
    assert.equal(res.status, 201);
    const url = s.base + res.headers.get('location');
    const etag = res.headers.get('etag');
    assert.equal(res.headers.get('accept-patch'), 'application/trickle-ice-sdpfrag');

    // One candidate per PATCH with If-Match: "*", as some players do.
    for (const c of cands) {
      const p = await patch(url, `${ufrag}\r\n${pwd}\r\nm=video 9 UDP/TLS/RTP/SAVPF 0\r\n${mid}\r\n${c}\r\n`, { 'If-Match': '*' });
      assert.equal(p.status, 204, await p.text());
      assert.equal(p.headers.get('etag'), null, '204 carries no ETag');
    }
    // The end, with the session's ETag.
    let p = await patch(url, `${ufrag}\r\n${pwd}\r\na=end-of-candidates\r\n`, { 'If-Match': etag });
    assert.equal(p.status, 204);
    // Without If-Match too.
    p = await patch(url, 'a=end-of-candidates\r\n');
    assert.equal(p.status, 204);
    await r.accept(await res.text());
    await r.waitPackets(30, 15000);
    assert.match(s.daemon.log(), /trickled candidate/);

    // Wrong ETag: 412 problem+json.
    p = await patch(url, 'a=end-of-candidates\r\n', { 'If-Match': '"not-the-etag"' });
    assert.equal(p.status, 412);
    assert.equal(p.headers.get('content-type'), 'application/problem+json');

    // ICE restart. The session stays and keeps playing either way.
    p = await patch(url, 'a=ice-ufrag:newU\r\na=ice-pwd:newpasswordnewpassword12\r\n' + cands[0] + '\r\n', { 'If-Match': etag });
    if (mode === 'lite') {
      assert.equal(p.status, 200, await p.clone().text());
      assert.equal(p.headers.get('content-type'), 'application/trickle-ice-sdpfrag');
      const frag = await p.text();
      const answer = r.pc.remoteDescription.sdp;
      const ours = (text, key) => (new RegExp(`^a=${key}:(.+?)\r?$`, 'm').exec(text) || [])[1];
      assert.ok(ours(frag, 'ice-ufrag') && ours(frag, 'ice-ufrag') !== ours(answer, 'ice-ufrag'), 'a new ufrag of ours');
      assert.ok(ours(frag, 'ice-pwd') && ours(frag, 'ice-pwd') !== ours(answer, 'ice-pwd'), 'a new password of ours');
      assert.match(frag, /\r\na=candidate:.* 127\.0\.0\.1 \d+ typ host\r\n/);
      assert.match(frag, /a=end-of-candidates\r\n$/);
      const etag2 = p.headers.get('etag');
      assert.ok(etag2 && etag2 !== etag, 'a new ETag');
      assert.equal((await patch(url, 'a=end-of-candidates\r\n', { 'If-Match': etag })).status, 412, 'the old ETag is stale');
      assert.equal((await patch(url, 'a=end-of-candidates\r\n', { 'If-Match': etag2 })).status, 204);
      // A PATCH with the same new credentials is no second restart.
      assert.equal((await patch(url, 'a=ice-ufrag:newU\r\na=ice-pwd:newpasswordnewpassword12\r\na=end-of-candidates\r\n')).status, 204);
    } else {
      assert.equal(p.status, 422);
      assert.match((await p.json()).detail, /ICE restart is not supported in ICE mode full/);
    }
    const before = r.stats().packets;
    await r.waitPackets(before + 30, 5000);

    // Size limit and content type.
    p = await patch(url, 'a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n'.repeat(400));
    assert.equal(p.status, 413);
    p = await fetch(url, { method: 'PATCH', headers: { 'Content-Type': 'application/sdp' }, body: 'a=end-of-candidates' });
    assert.equal(p.status, 415);
    // An unknown session.
    p = await patch(`${s.base}/whep/cam/0123456789abcdef0123456789abcdef`, 'a=end-of-candidates\r\n');
    assert.equal(p.status, 404);
    assert.equal((await fetch(url, { method: 'DELETE' })).status, 200);
    await r.close();
  } finally {
    await s.stop();
  }
}
process.exit(0);
