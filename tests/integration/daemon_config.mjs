// A config file with two streams: per-stream size, token and viewer limit are
// applied and reported; a bad key stops the daemon with a one-line reason.
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const config = `[daemon]
max-viewers = 10
[stream cam]
source = test:
width = 320
height = 240
fps = 15
bitrate-kbps = 300
token = s3cret-token
[stream lobby]
source = test:
width = 160
height = 120
fps = 10
max-viewers = 1
`;
// The library adds --source test: (which applies to the first stream only).
const d = await startDaemon({ config, name: 'whepcamd-config' });
try {
  const { status, streams } = await d.request({ op: 'streams' });
  assert.equal(status, 200);
  const byName = Object.fromEntries(streams.map((s) => [s.name, s]));
  assert.deepEqual(Object.keys(byName).sort(), ['cam', 'lobby']);
  assert.deepEqual([byName.cam.width, byName.cam.height, byName.cam.fps], [320, 240, 15]);
  assert.deepEqual([byName.lobby.width, byName.lobby.height, byName.lobby.fps], [160, 120, 10]);
  for (const s of streams) assert.equal(s.codec, 'VP8');

  // cam needs its token for offers and deletes.
  const r = await createReceiver();
  for (const token of [undefined, '', 'wrong', 's3cret-token-', 's3cret-toke']) {
    const req = { op: 'offer', stream: 'cam', sdp: r.offer };
    if (token !== undefined) req.token = token;
    const no = await d.request(req);
    assert.equal(no.status, 401, `token ${JSON.stringify(token)}: ${JSON.stringify(no)}`);
    assert.equal(typeof no.detail, 'string');
    assert.ok(!JSON.stringify(no).includes('s3cret'), 'the reply does not leak the token');
  }
  const ok = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer, token: 's3cret-token' });
  assert.equal(ok.status, 201, JSON.stringify(ok));
  await r.accept(ok.sdp);
  await r.waitPackets(20);
  assert.equal(r.stats().firstIsKeyframe, true);
  const badDel = await d.request({ op: 'delete', stream: 'cam', session: ok.session });
  assert.equal(badDel.status, 401, 'delete without the token is refused');
  assert.equal((await d.request({ op: 'delete', stream: 'cam', session: ok.session, token: 's3cret-token' })).status, 200);
  await r.close();

  // lobby: no token, one viewer at most.
  const a = await createReceiver({ audio: false });
  const ra = await d.request({ op: 'offer', stream: 'lobby', sdp: a.offer });
  assert.equal(ra.status, 201, JSON.stringify(ra));
  await a.accept(ra.sdp);
  await a.waitPackets(10);
  const b = await createReceiver({ audio: false });
  const rb = await d.request({ op: 'offer', stream: 'lobby', sdp: b.offer });
  assert.equal(rb.status, 503, JSON.stringify(rb));
  assert.ok(rb.retry_after > 0);
  const rc = await d.request({ op: 'offer', stream: 'cam', sdp: b.offer, token: 's3cret-token' });
  assert.equal(rc.status, 201, 'the per-stream limit leaves other streams alone');
  await a.close();
  await b.close();
} finally {
  assert.equal(await d.stop(), 0);
}

// An unknown key: the daemon refuses to start and says which key.
await assert.rejects(startDaemon({ config: '[stream cam]\nwidht = 320\n', name: 'whepcamd-badconfig' }),
  (e) => /widht/.test(e.message) && /exited with [1-9]/.test(e.message));
process.exit(0);
