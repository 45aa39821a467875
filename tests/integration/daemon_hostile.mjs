// Every packet is hostile (issue 13), all at once: while two honest viewers
// play, the media port gets, for several seconds,
//  - forged DTLS from each honest viewer's own address (a raw socket forges
//    the source): plaintext fatal alerts, sealed records too short for their
//    cipher, well-framed records of random bytes;
//  - forged STUN from a victim address that only listens: an attacker's valid
//    checks with USE-CANDIDATE (it knows its own password) and checks with a
//    wrong key;
//  - the attacker's own authenticated RTCP: NACKs naming 64 packets and PLIs,
//    every few milliseconds;
//  - random datagrams of every RFC 7983 range from random loopback sources.
// Every honest viewer keeps its session and receives every packet sent to it
// (no sequence gap, its share of what the daemon sent), nothing but STUN
// reaches the victim, the attacker is resent no more than its budget and
// forces no more keyframes than its share, and the daemon's memory is flat.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { GenericNack, PictureLossIndication, RtcpPayloadSpecificFeedback, RtcpTransportLayerFeedback } from 'werift';
import { startDaemon, until } from '../lib/daemon.mjs';
import { playFrom } from '../lib/peer.mjs';
import { daemonMetrics, sentCounters } from '../lib/metrics.mjs';
import { startSpoofer } from '../lib/spoof.mjs';
import { BINDING_REQUEST, BINDING_SUCCESS, bindingRequest, iceCredentials, parse } from '../lib/stun.mjs';

const KBPS = 1000;
const RESEND_RATE = (KBPS * 1000 / 8) * 25 / 100; // daemon/wire/resend.h: a quarter of the bitrate
const RESEND_BURST = (KBPS * 1000 / 8) * 500 / 1000; // half a second of it
const VIEWER_KEYFRAME_MS = 2000; // daemon/media/track.h
const FLOOD_MS = 6000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dtlsOf = (r) => r.pc.getTransceivers().find((t) => t.kind === 'video').dtlsTransport;
const hostPort = (sdp) => Number(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(sdp)[1]);
// Where a viewer really is: the address the daemon sends its media to (werift's
// checks may come from another of its sockets than the one its offer names).
const mediaPort = async (d, session) => {
  const re = new RegExp(`viewer ${session.slice(0, 8)}: media to 127\\.0\\.0\\.1:(\\d+)`);
  await until(() => re.test(d.log()), { what: `the media address of ${session.slice(0, 8)}` });
  return Number(re.exec(d.log())[1]);
};

// A DTLS record header (RFC 6347 4.1) and `body`.
function record(type, epoch, body) {
  const h = Buffer.alloc(13);
  h[0] = type; h[1] = 0xfe; h[2] = 0xfd;
  h.writeUInt16BE(epoch, 3);
  h.writeUInt16BE(7, 9);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}
const forgedDtls = () => [
  record(21, 0, Buffer.from([2, 40])), // fatal handshake_failure, in the plain
  record(23, 1, Buffer.from([0, 0])), // sealed, too short for a nonce and a tag
  record(21, 1, crypto.randomBytes(40)), // sealed, fails to authenticate
  record(23, 1, crypto.randomBytes(200)),
];

const d = await startDaemon({ args: ['--width', '320', '--height', '240', '--bitrate-kbps', String(KBPS),
  '--keyframe-interval', '10000'] });
const spoof = startSpoofer();
const victim = dgram.createSocket('udp4');
try {
  await new Promise((r) => victim.bind(0, '127.0.0.9', r));
  const vport = victim.address().port;
  const atVictim = [];
  victim.on('message', (m) => atVictim.push(m));

  const honest = [await playFrom(d, { trackSeqs: true, nack: false, packets: 30 }),
    await playFrom(d, { trackSeqs: true, nack: false, packets: 30 })];
  const attacker = await playFrom(d, { dropRepeats: true, packets: 30 });
  const port = hostPort(attacker.reply.sdp);
  const ours = iceCredentials(attacker.reply.sdp), theirs = iceCredentials(attacker.r.offer);
  const ssrc = attacker.r.stats().ssrc;
  const honestPorts = [await mediaPort(d, honest[0].session), await mediaPort(d, honest[1].session)];
  const rssBefore = (await d.request({ op: 'health' })).rss_kb;

  const m0 = await daemonMetrics(d);
  const start = honest.map((h) => h.r.stats().packets);
  const t0 = performance.now();
  let forged = 0, rtcp = 0, random = 0;
  const until_ = () => performance.now() - t0 < FLOOD_MS;
  await Promise.all([
    (async () => { // forged DTLS at each honest viewer's own address, and forged STUN
      while (until_()) {
        for (const hp of honestPorts) for (const b of forgedDtls()) { await spoof.send('127.0.0.1', hp, '127.0.0.1', port, b); forged++; }
        await spoof.send('127.0.0.9', vport, '127.0.0.1', port,
          bindingRequest({ username: `${ours.ufrag}:${theirs.ufrag}`, pwd: ours.pwd, useCandidate: true }));
        await spoof.send('127.0.0.9', vport, '127.0.0.1', port,
          bindingRequest({ username: `${ours.ufrag}:${theirs.ufrag}`, pwd: 'not-the-password-at-all', useCandidate: true }));
        forged += 2;
        await sleep(20);
      }
    })(),
    (async () => { // random datagrams from random loopback sources
      while (until_()) {
        const b = crypto.randomBytes(1 + crypto.randomInt(1200));
        b[0] = [0, 1, 20, 22, 23, 64, 128, 144, 200][crypto.randomInt(9)];
        await spoof.send(`127.0.${crypto.randomInt(1, 255)}.${crypto.randomInt(1, 255)}`, 1024 + crypto.randomInt(60000), '127.0.0.1', port, b);
        random++;
      }
    })(),
    (async () => { // the attacker's own RTCP: NACKs of 64 packets, PLIs
      for (let i = 0; until_(); i++) {
        const top = attacker.r.stats().maxSeq;
        const lost = Array.from({ length: 64 }, (_, k) => (top - 63 + k) & 0xffff);
        await dtlsOf(attacker.r).sendRtcp(i % 4 === 3
          ? [new RtcpPayloadSpecificFeedback({ feedback: new PictureLossIndication({ senderSsrc: 1, mediaSsrc: ssrc }) })]
          : [new RtcpTransportLayerFeedback({ feedback: new GenericNack({ senderSsrc: 1, mediaSourceSsrc: ssrc, lost }) })]);
        rtcp++;
        await sleep(5);
      }
    })(),
  ]);
  const secs = (performance.now() - t0) / 1000;
  await sleep(700); // the last resends and a keyframe deferred by the stream's cap
  const m1 = await daemonMetrics(d);

  // The honest viewers: every packet up to what was sent, and their share of it.
  const { sent } = await sentCounters(d);
  const perViewer = (sent - m0.whepcam_rtp_packets_sent_total) / 3;
  for (const [i, h] of honest.entries()) {
    const got = h.r.stats().packets - start[i];
    const missing = h.r.missing();
    console.log(`honest ${i}: ${got} packets during the flood (the daemon sent ${Math.round(perViewer)} a viewer), missing ${missing.length}`);
    assert.deepEqual(missing.slice(0, 10), [], `honest viewer ${i} lost packets`);
    assert.ok(got >= perViewer * 0.9, `honest viewer ${i} got ${got} of the ${Math.round(perViewer)} sent to each viewer`);
  }
  assert.doesNotMatch(d.log(), /DTLS failed|leave \(/, 'no session failed or ended');
  assert.match(d.log(), /DTLS datagram dropped/, 'the forged records reached the honest viewers\' sessions, and were dropped');
  assert.equal((await d.request({ op: 'health' })).viewers, 3);

  // The victim: never media or DTLS, only STUN (consent checks of ours, 401s and answers owed to checks).
  const foreign = atVictim.filter((m) => ![BINDING_REQUEST, BINDING_SUCCESS, 0x0111].includes(parse(m)?.type));
  console.log(`the victim got ${atVictim.length} datagrams (${atVictim.reduce((n, m) => n + m.length, 0)} bytes), all STUN`);
  assert.equal(foreign.length, 0, 'nothing but STUN reaches an address that never consented');

  // The attacker: within its resend budget and its share of keyframes.
  const resent = m1.whepcam_rtp_bytes_resent_total - m0.whepcam_rtp_bytes_resent_total;
  const keyframes = m1['whepcam_keyframes_forced_total{stream="cam"}'] - m0['whepcam_keyframes_forced_total{stream="cam"}'];
  console.log(`${forged} forged, ${random} random, ${rtcp} RTCP in ${secs.toFixed(1)} s: ${resent} bytes resent `
    + `(budget ${Math.round(RESEND_BURST + RESEND_RATE * secs)}), ${keyframes} keyframes forced`);
  assert.ok(resent <= RESEND_BURST + RESEND_RATE * (secs + 0.7), `resent ${resent} bytes: over the budget`);
  assert.ok(keyframes <= Math.floor((secs + 0.7) * 1000 / VIEWER_KEYFRAME_MS) + 1, `${keyframes} keyframes forced`);

  // Memory is flat once it is over: the same viewers, no growth from what was
  // sent. (Not under ASan, whose quarantine keeps freed memory: the plain build's check.)
  if (!process.env.ASAN_OPTIONS)
    await until(async () => (await d.request({ op: 'health' })).rss_kb - rssBefore < 4096,
      { timeoutMs: 5000, what: 'RSS back within 4 MB of before the flood' }).catch(async (e) => {
      throw new Error(`${e.message}: ${rssBefore} -> ${(await d.request({ op: 'health' })).rss_kb} kB`);
    });
  for (const v of [...honest, attacker]) await v.r.close();
} finally {
  victim.close();
  await spoof.close();
  assert.equal(await d.stop(), 0);
}
process.exit(0);
