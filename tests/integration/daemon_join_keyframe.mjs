// A join's keyframe is asked for with its offer, and what came since is
// kept: a viewer whose DTLS comes up after that keyframe was out gets it at
// once, in the handshake's last step, not a frame later nor after asking
// again; its first packet starts that keyframe, and the join costs the
// encoder one keyframe. A camera's GOP: rtsp_passthrough.mjs.
import assert from 'node:assert/strict';
import { startDaemon, until } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--keyframe-interval', '3000',
  '--log-level', 'debug'] });
try {
  await until(async () => (await d.request({ op: 'streams' })).streams[0].state === 'live', { what: 'the stream is live' });
  for (let i = 0; i < 3; i++) {
    const r = await createReceiver({ audio: false, h264: false });
    const asked = d.log().match(/VP8 keyframe requested/g)?.length ?? 0;
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201);
    const sid = reply.session.slice(0, 8);
    // The keyframe asked for with the offer is out before our DTLS starts.
    await until(() => (d.log().match(/VP8 keyframe requested/g)?.length ?? 0) > asked, { what: 'a keyframe asked for with the offer' });
    await new Promise((res) => setTimeout(res, 300)); // a viewer far away: its handshake comes later
    await r.accept(reply.sdp);
    await r.waitPackets(5, 10000);
    assert.equal(r.stats().firstIsKeyframe, true, 'the first packet starts a keyframe');
    // The log is read as the daemon writes it: wait for both lines.
    await until(() => d.log().includes(`viewer ${sid}: connected after`) && d.log().includes(`viewer ${sid}: first keyframe sent`),
      { what: `viewer ${sid}: connected and first keyframe logged` });
    const log = d.log();
    const sent = log.search(new RegExp(`viewer ${sid}: first keyframe sent [\\d.]+ ms after the offer \\(the GOP kept, \\d+ frames\\)`));
    const connected = log.search(new RegExp(`viewer ${sid}: connected after`));
    assert.ok(sent >= 0, `viewer ${sid} started from the frames kept:\n${log.split('\n').filter((l) => l.includes(sid)).join('\n')}`);
    assert.ok(connected > sent, 'sent as DTLS came up, before the main loop even heard of it');
    assert.equal(d.log().match(/VP8 keyframe requested/g).length, asked + 1, 'one keyframe for the join');
    await r.close();
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
  }
} finally {
  await d.stop();
}
