// A connected viewer floods its own, authenticated, RTCP: generic NACKs
// (RFC 4585 §6.2.1) naming 64 packets each, the same numbers again and
// again, every 5 ms; then PLIs at the same rate. What it gets sent again is
// bounded by its resend budget (daemon/wire/resend.h): at most the burst
// plus the rate times the time, counted by whepcam_rtp_bytes_resent_total,
// and the refusals show in whepcam_rtp_resends_refused_total. Its PLIs force
// at most one keyframe per KEYFRAME_VIEWER_INTERVAL_MS for everyone
// (whepcam_keyframes_forced_total), and another viewer's PLI right after
// one forced keyframe still gets its own. Meanwhile a second viewer, without
// NACK, receives every packet the daemon's counters say it was sent.
import assert from 'node:assert/strict';
import { GenericNack, PictureLossIndication, RtcpPayloadSpecificFeedback, RtcpTransportLayerFeedback } from 'werift';
import { startDaemon, until } from '../lib/daemon.mjs';
import { playFrom } from '../lib/peer.mjs';
import { daemonMetrics, sentCounters } from '../lib/metrics.mjs';

// The bounds the daemon promises (daemon/wire/resend.h, daemon/media/track.h).
const KBPS = 2000; // --bitrate-kbps: the budget follows the configured bitrate
const RESEND_RATE = (KBPS * 1000 / 8) * 25 / 100; // bytes/s: RESEND_RATE_PERCENT
const RESEND_BURST = (KBPS * 1000 / 8) * 500 / 1000; // bytes: RESEND_BURST_MS
const VIEWER_KEYFRAME_MS = 2000; // KEYFRAME_VIEWER_INTERVAL_MS
const EVERY_MS = 5;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dtlsOf = (r) => r.pc.getTransceivers().find((t) => t.kind === 'video').dtlsTransport;

// No periodic keyframe in the test's time: every keyframe is a forced one.
const d = await startDaemon({ args: ['--width', '640', '--height', '360', '--bitrate-kbps', String(KBPS),
  '--keyframe-interval', '10000'] });
try {
  const honest = await playFrom(d, { trackSeqs: true, nack: false, packets: 50 });
  // The attacker drops what it is resent unread: its CPU is not what is tested.
  const attacker = await playFrom(d, { dropRepeats: true, packets: 50 });
  const ssrc = attacker.r.stats().ssrc;
  const send = (r, packets) => dtlsOf(r).sendRtcp(packets);
  // `make()`'s RTCP from the attacker every EVERY_MS for `ms`: how many went.
  async function flood(ms, make) {
    let n = 0;
    for (const start = performance.now(); performance.now() - start < ms; n++) {
      await send(attacker.r, make(n));
      await sleep(EVERY_MS);
    }
    return n;
  }
  const metric = async (name) => (await daemonMetrics(d))[name];
  const refused = (m, reason) => m[`whepcam_rtp_resends_refused_total{reason="${reason}"}`];

  // NACKs of the 68 newest packets (four FCIs with full bitmasks; the daemon
  // reads 64), every other one the 17 newest four times over: all in the
  // daemon's history, repeated within each NACK and across them.
  const nack = (i) => {
    const top = attacker.r.stats().maxSeq;
    const newest = Array.from({ length: 68 }, (_, k) => (top - 67 + k) & 0xffff);
    const lost = i % 2 ? newest : [0, 1, 2, 3].flatMap(() => newest.slice(-17));
    return [new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc, lost }) })];
  };
  // The time runs from before the first read to after the second: it holds the daemon's.
  let t0 = performance.now(), m0 = await daemonMetrics(d);
  const nacks = await flood(3000, nack);
  await sleep(200); // the last NACKs served
  let m1 = await daemonMetrics(d), secs = (performance.now() - t0) / 1000;
  const bytes = m1.whepcam_rtp_bytes_resent_total - m0.whepcam_rtp_bytes_resent_total;
  const packets = m1.whepcam_rtp_packets_resent_total - m0.whepcam_rtp_packets_resent_total;
  const bound = RESEND_BURST + RESEND_RATE * secs;
  console.log(`${nacks} NACKs (${nacks * 64} packets asked for) in ${secs.toFixed(1)} s: ${packets} packets, ${bytes} bytes resent `
    + `(budget ${Math.round(bound)}), refused ${refused(m1, 'budget') - refused(m0, 'budget')} over budget, `
    + `${refused(m1, 'repeat') - refused(m0, 'repeat')} repeats; ${attacker.r.stats().wireRepeats} resends arrived`);
  assert.ok(bytes <= bound, `resent ${bytes} bytes, over the budget of ${Math.round(bound)} for ${secs.toFixed(1)} s`);
  assert.ok(bytes >= RESEND_BURST / 2, `the viewer got (at least half) its burst: ${bytes} bytes`);
  assert.ok(refused(m1, 'budget') > refused(m0, 'budget'), 'refusals over budget are counted');
  assert.ok(refused(m1, 'repeat') > refused(m0, 'repeat'), 'repeats refused are counted');

  // PLIs: the first forces a keyframe, the rest of the flood one per VIEWER_KEYFRAME_MS at most.
  const pli = (mediaSsrc) => [new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc }) })];
  const forced = 'whepcam_keyframes_forced_total{stream="cam"}';
  t0 = performance.now(); m0 = await daemonMetrics(d);
  const plis = await flood(5000, () => pli(ssrc));
  await sleep(700); // a keyframe deferred by the stream's cap (500 ms) is forced by now
  m1 = await daemonMetrics(d); secs = (performance.now() - t0) / 1000;
  const keyframes = m1[forced] - m0[forced];
  const allowed = Math.floor(secs * 1000 / VIEWER_KEYFRAME_MS) + 1;
  console.log(`${plis} PLIs in ${secs.toFixed(1)} s: ${keyframes} keyframes forced (at most ${allowed})`);
  assert.ok(keyframes >= 1, 'a viewer\'s PLI still forces a keyframe');
  assert.ok(keyframes <= allowed, `${keyframes} keyframes forced by one viewer in ${secs.toFixed(1)} s, over ${allowed}`);

  // Fairness: once its interval is over the attacker forces one, and the
  // other viewer's PLI right after (within the stream's 500 ms) is not
  // dropped: it waits for the interval and gets a keyframe of its own.
  await sleep(VIEWER_KEYFRAME_MS + 100);
  const k0 = await metric(forced), seen = honest.r.stats().keyframes;
  await send(attacker.r, pli(ssrc));
  await until(async () => (await metric(forced)) === k0 + 1, { what: 'the attacker\'s PLI forced a keyframe' });
  await honest.r.waitFor((st) => st.keyframes > seen, { what: 'that keyframe at the other viewer' });
  await send(honest.r, pli(ssrc));
  await until(async () => (await metric(forced)) === k0 + 2, { timeoutMs: 5000, what: 'the other viewer\'s PLI answered' });

  // The other viewer holds every packet from its first to the newest sent
  // to both: sent = Σ (last_i - first_i + 1) over the two, in one
  // sequence space (see daemon_ten_viewers.mjs).
  const { sent } = await sentCounters(d);
  const h = honest.r.stats(), a = attacker.r.stats();
  const shift = h.firstSeq + ((a.firstSeq - h.firstSeq) & 0xffff) - a.firstSeq; // a's frame -> h's
  const last = Math.ceil((sent + h.firstSeq + a.firstSeq + shift) / 2) - 1;
  await honest.r.waitFor(() => honest.r.missing(h.firstSeq, last).length === 0,
    { timeoutMs: 15000, what: `the other viewer: every packet up to ${last}` })
    .catch((e) => { throw new Error(`${e.message}; missing ${honest.r.missing(h.firstSeq, last).slice(0, 20).join(' ')}`); });
  console.log(`the other viewer holds all ${last - h.firstSeq + 1} packets sent to it`);
  await honest.r.close();
  await attacker.r.close();
} finally {
  assert.equal(await d.stop(), 0);
}
process.exit(0);
