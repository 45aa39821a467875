// A viewer on a lossy network gets its lost packets again. The loss is
// deterministic: the receiver drops the first arrival of every RTP packet
// whose sequence number is a multiple of DROP, before SRTP. It sends generic
// NACKs (RFC 4585) and the daemon resends from the stream's history, so over
// SPAN packets none stays missing, and every resend the daemon counts
// (whepcam_rtp_packets_resent_total) is one the receiver got. A receiver that
// offers no NACK is the control: exactly the dropped packets stay missing and
// nothing is resent (the loss is real, and only NACK repairs it).
import assert from 'node:assert/strict';
import { startDaemon } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { sentCounters } from '../lib/metrics.mjs';

const DROP = 30;
const SPAN = 600; // packets: ~3 s of 640x360, 20 of them dropped
const d = await startDaemon({ args: ['--width', '640', '--height', '360'] });
try {
  for (const nack of [true, false]) {
    const r = await createReceiver({ nack, trackSeqs: true, dropEvery: DROP });
    const reply = await d.request({ op: 'offer', stream: 'cam', sdp: r.offer });
    assert.equal(reply.status, 201, JSON.stringify(reply));
    assert.equal(/a=rtcp-fb:\d+ nack\r\n/.test(reply.sdp), nack, 'plain NACK answered exactly when offered');
    const before = await sentCounters(d);
    await r.accept(reply.sdp);
    // The window: SPAN packets from the first one received.
    const { firstSeq } = await r.waitFor((st) => st.maxSeq !== null && st.maxSeq >= st.firstSeq + SPAN,
      { timeoutMs: 30000, what: `${SPAN} packets` });
    const last = firstSeq + SPAN - 1;
    const inWindow = (seq) => seq >= firstSeq && seq <= last;
    const expected = [];
    for (let i = firstSeq; i <= last; i++) if ((i & 0xffff) % DROP === 0) expected.push(i);
    assert.deepEqual(r.stats().dropped.filter(inWindow), expected, `every ${DROP}th packet of the window was dropped`);
    if (nack) {
      // Event, not time: done when the last hole in the window is filled.
      await r.waitFor(() => r.missing(firstSeq, last).length === 0, { timeoutMs: 10000, what: 'NACK recovery' })
        .catch((e) => { throw new Error(`${e.message}; still missing ${r.missing(firstSeq, last).join(' ')}`); });
    }
    // Stop the sending, then compare the receiver with the daemon's counters.
    assert.equal((await d.request({ op: 'delete', stream: 'cam', session: reply.session })).status, 200);
    const after = await sentCounters(d);
    const resent = after.resent - before.resent;
    const missing = r.missing(firstSeq, last);
    console.log(`nack ${nack}: ${expected.length} of ${SPAN} packets dropped, ${missing.length} missing after, `
      + `${resent} resent by the daemon, ${r.stats().wireRepeats} resends received`);
    if (nack) {
      assert.deepEqual(missing, [], 'NACK recovered every dropped packet of the window');
      assert.ok(resent >= expected.length, `a resend for each dropped packet (${resent} for ${expected.length})`);
      // Every resend counted arrived (loopback), and nothing arrived twice that was not resent.
      await r.waitFor((st) => st.wireRepeats >= resent, { timeoutMs: 5000, what: `${resent} resends arriving` });
      assert.equal(r.stats().wireRepeats, resent, 'resends received = whepcam_rtp_packets_resent_total');
    } else {
      assert.deepEqual(missing, expected, 'without NACK exactly the dropped packets stay missing');
      assert.equal(resent, 0, 'nothing resent to a viewer that did not offer NACK');
      assert.equal(r.stats().wireRepeats, 0, 'no packet arrived twice');
    }
    await r.close();
  }
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
