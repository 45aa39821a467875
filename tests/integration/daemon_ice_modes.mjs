// The two media paths as a user sees them. Mode lite (the default): answers
// are ICE-lite, every viewer is told the same UDP port, and viewers cost the
// daemon no thread; a deleted viewer's peer is freed and its client sees the
// DTLS session close at once. Mode full: a webrtcbin per viewer, full ICE.
import assert from 'node:assert/strict';
import { startDaemon, until, mediaAlive } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

// Enough viewers that a thread per viewer (or per two) stands out from the few
// threads GLib's pools start now and then: at most SLACK more with N than with 1.
const N = 12, SLACK = 4;
const portOf = (sdp) => /\r\na=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(sdp)?.[1];

const lite = await startDaemon({ args: ['--width', '320', '--height', '240'] });
try {
  const offer = async () => {
    const r = await createReceiver();
    const reply = await lite.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    assert.match(reply.sdp, /\r\na=ice-lite\r\n/, 'the answer says ICE-lite');
    assert.match(reply.sdp, /\r\na=setup:passive\r\n/, 'the player starts DTLS');
    return { r, reply };
  };
  // One viewer playing first: the daemon's own threads (libvpx starts its
  // workers on the first frames) are all there before we count. The others
  // offer after the count, so a thread started per offer shows too.
  const viewers = [await offer()];
  await viewers[0].r.accept(viewers[0].reply.sdp);
  await viewers[0].r.waitPackets(20, 15000);
  const one = await lite.request({ op: 'health' });
  for (let i = 1; i < N; i++) viewers.push(await offer());
  const ports = new Set(viewers.map(({ reply }) => portOf(reply.sdp)));
  assert.equal(ports.size, 1, `one UDP port for every viewer (got ${[...ports]})`);
  assert.ok([...ports][0], 'the answer has a host candidate on 127.0.0.1');
  await Promise.all(viewers.slice(1).map(({ r, reply }) => r.accept(reply.sdp)));
  await Promise.all(viewers.map(({ r }) => r.waitPackets(20, 15000)));
  const busy = await lite.request({ op: 'health' });
  assert.equal(busy.viewers, N);
  assert.equal(busy.peers, N, 'one direct peer per viewer');
  assert.equal(busy.webrtcbins, 0, 'no webrtcbin in mode lite');
  assert.ok(busy.threads - one.threads <= SLACK, `no thread per viewer: ${one.threads} with 1 viewer, ${busy.threads} with ${N}`);

  // DELETE: the peer is freed, and the player hears DTLS close at once.
  const { r, reply } = viewers[0];
  // Watched on the wire: a DTLS alert record (content type 21) reaching the
  // player. werift's own state misses about one in eight: it reads an
  // encrypted alert's first bytes as plaintext when they happen to name a
  // known alert (OpenSSL's GCM explicit nonce starts at random), and drops it.
  const dtls = r.pc.getTransceivers().find((t) => t.kind === 'video').dtlsTransport;
  const closed = new Promise((resolve) => dtls.iceTransport.connection.onData.subscribe((data) => { if (data[0] === 21) resolve(); }));
  assert.equal((await lite.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
  await until(async () => mediaAlive(await lite.request({ op: 'health' })) === N - 1, { what: 'the deleted peer freed' });
  await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the player did not see the session end within 5 s')), 5000))]);
  for (const v of viewers.slice(1)) await v.r.close();
} finally {
  assert.equal(await lite.stop(), 0);
}

const full = await startDaemon({ args: ['--width', '320', '--height', '240', '--ice-mode', 'full'] });
try {
  const r = await createReceiver();
  const reply = await full.request({ op: 'offer', stream: 'cam', sdp: r.offer });
  assert.equal(reply.status, 201, JSON.stringify(reply));
  assert.doesNotMatch(reply.sdp, /a=ice-lite/, 'mode full answers as a full ICE agent');
  await r.accept(reply.sdp);
  await r.waitPackets(20, 15000);
  const h = await full.request({ op: 'health' });
  assert.equal(h.webrtcbins, 1, 'mode full: a webrtcbin per viewer');
  assert.equal(h.peers, 0);
  await r.close();
} finally {
  assert.equal(await full.stop(), 0);
}
process.exit(0);
