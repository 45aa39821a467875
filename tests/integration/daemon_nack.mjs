// A viewer on a lossy network gets its lost packets again: the receiver
// drops 3 % of what arrives, sends generic NACKs (RFC 4585), and the daemon
// resends from the stream's history, so almost nothing stays missing; a
// receiver that offers no NACK keeps its holes (the control: the loss is real).
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver, packetsOver } from '../lib/peer.mjs';

const LOSS = 3;
const d = await startDaemon({ args: ['--width', '640', '--height', '360'] });
const resent = async () => Number(/^whepcam_rtp_packets_resent_total (\d+)$/m.exec((await d.request({ op: 'metrics' })).text)[1]);
try {
  const missing = {};
  for (const nack of [true, false]) {
    const r = await createReceiver({ lossPercent: LOSS, nack, trackSeqs: true });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    assert.equal(/a=rtcp-fb:\d+ nack\r\n/.test(reply.sdp), nack, 'plain NACK answered exactly when offered');
    await r.accept(reply.sdp);
    await r.waitPackets(50, 15000);
    const before = await resent();
    await packetsOver(r, 6000); // the window the holes are counted over
    const { seqs } = r.stats();
    const last = Math.max(...seqs) - 50; // the newest packets may still be on their way again
    let holes = 0;
    for (let i = 0; i <= last; i++) if (!seqs.has(i)) holes++;
    missing[nack] = holes / (last + 1);
    console.log(`nack ${nack}: ${holes} of ${last + 1} packets missing (${(100 * missing[nack]).toFixed(2)} %), ${(await resent()) - before} resent`);
    if (nack) assert.ok((await resent()) > before, 'the daemon resent packets');
    await r.close();
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
  }
  assert.ok(missing.false > LOSS / 100 / 3, `the control receiver really loses packets (${missing.false})`);
  assert.ok(missing.true < missing.false / 4, `NACK recovers most losses: ${missing.true} vs ${missing.false} missing`);
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
