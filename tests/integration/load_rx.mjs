// The bench's cheap receiver (whep_rx, tests/load/rx/) through the real
// stack: 20 viewers POST through nginx, pass ICE and DTLS (half offering only
// AES128_CM_SHA1_80, half only AEAD_AES_128_GCM), and each gets >= 95 % of
// what the daemon sent it, judged against whepcam_rtp_packets_sent_total:
// one payloader feeds every viewer, so viewer i was sent the sequence numbers
// from its first (its join keyframe) to the stream's latest, and the counter
// is the sum of those spans. Every first packet decrypts to a VP8 keyframe of
// the configured size; every DELETE answers 200 and the daemon is back to 0
// viewers. Then the same judge must refuse a whep_rx whose SRTP key is wrong
// (--corrupt-key): a receiver that counts headers must not pass bad media.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { untilTornDown, resources, until, assertCleanExit } from '../lib/daemon.mjs';
import { sentCounters } from '../lib/metrics.mjs';
import { startFleet, ask } from '../load/fleet.mjs';

const N = 20;
const W = 640, H = 360;

// What is wrong with these viewers' media (whep_rx stats), given the daemon's
// counter `sent` read when every viewer had joined and before the stats; [] if nothing.
function judge(viewers, sent) {
  const problems = [];
  const n = viewers.length;
  // Sequence numbers into viewer 0's frame (joins within far less than 32768
  // packets, before or after it): whep_rx's firstSeq is the 16-bit number it
  // first got, maxSeq counts on from it.
  const base = viewers[0].firstSeq;
  const shift = viewers.map((v) => base + ((((v.firstSeq - base) & 0xffff) ^ 0x8000) - 0x8000) - v.firstSeq);
  const firsts = viewers.map((v, i) => v.firstSeq + shift[i]);
  // sent = Σ (last_i - first_i + 1); a read in the middle of a frame's fan-out
  // leaves some last_i a frame behind, so the rounded-up mean is the newest
  // number sent to (or being sent to) every viewer.
  const last = Math.ceil((sent + firsts.reduce((a, b) => a + b, 0)) / n) - 1;
  viewers.forEach((v, i) => {
    const span = last - firsts[i] + 1;
    const got = `viewer ${v.id}: ${v.packets} packets, ${v.missing} missing, span ${span}`;
    if (v.packets < 0.95 * span) problems.push(`${got}: under 95 % of the ${span} sent to it`);
    if (v.maxSeq + shift[i] < last) problems.push(`${got}: never got up to ${last}`);
    if (v.missing > 0.05 * span) problems.push(`${got}: more than 5 % missing`);
    if (!v.firstIsKeyframe) problems.push(`${got}: first packet not a VP8 keyframe (${v.decryptOk} decrypted, ${v.decryptFail} failed)`);
    else if (v.width !== W || v.height !== H) problems.push(`${got}: keyframe ${v.width}x${v.height}, not ${W}x${H}`);
    if (v.decryptFail > 0 || v.decryptOk === 0) problems.push(`${got}: ${v.decryptFail} packets failed to decrypt, ${v.decryptOk} did`);
    if (v.ssrc !== v.answerSsrc) problems.push(`${got}: SSRC ${v.ssrc}, the answer said ${v.answerSsrc}`);
    if (v.dups || v.foreignSsrc || v.badPt || v.early) problems.push(`${got}: dups ${v.dups}, foreign SSRC ${v.foreignSsrc}, bad PT ${v.badPt}, before DTLS ${v.early}`);
  });
  return problems;
}

// Joins n viewers with whep_rx `args`, waits for media, judges, DELETEs them all.
async function session(s, args, halves) {
  const fleet = await startFleet(1, null, { receiver: 'c', args });
  const [rx] = fleet.workers;
  try {
    const before = (await sentCounters(s.daemon)).sent; // earlier sessions' packets
    const joined = [];
    for (const profile of halves) {
      const j = await ask(rx, { cmd: 'join', n: N / halves.length, base: s.base, profile, parallel: 10 });
      assert.equal(j.failed, 0, `joins failed: ${JSON.stringify(j.reasons)}`);
      joined.push(...j.joined);
    }
    assert.equal(joined.length, N);
    assert.equal((await resources(s.daemon)).viewers, N, 'the daemon holds every viewer');
    // Some media after the last join, then the counter, then (once what was in
    // flight has landed) what the viewers hold.
    const stats0 = await ask(rx, { cmd: 'stats' });
    await until(async () => (await ask(rx, { cmd: 'counts' })).counts.every((c, i) => c >= stats0.viewers[i].packets + 30),
      { timeoutMs: 20000, what: '30 more packets at every viewer' });
    const sent = (await sentCounters(s.daemon)).sent - before;
    await new Promise((r) => setTimeout(r, 500));
    const { viewers, cpu } = await ask(rx, { cmd: 'stats' });
    const left = await ask(rx, { cmd: 'leave', n: N });
    return { viewers, sent, left, cpu };
  } finally {
    // whep_rx frees every viewer on exit: under ASan (BUILD=build-asan) a leak or worse shows here.
    const [code] = await fleet.stop();
    assertCleanExit(`whep_rx ${args.join(' ')}`, code, rx.log());
  }
}

const s = await startStack({ daemonArgs: ['--width', String(W), '--height', String(H)] });
try {
  const base = await resources(s.daemon);
  const good = await session(s, [], ['cm', 'gcm']);
  const problems = judge(good.viewers, good.sent);
  console.log(`daemon sent ${good.sent}; viewers got ${good.viewers.map((v) => v.packets).join(' ')} packets ` +
    `(${good.viewers.reduce((a, v) => a + v.missing, 0)} missing in all), whep_rx CPU ${((good.cpu.user + good.cpu.system) / 1000).toFixed(0)} ms`);
  assert.deepEqual(problems, [], 'every viewer played the media the daemon sent it');
  assert.deepEqual(good.viewers.map((v) => v.profile).sort(),
    [...Array(N / 2).fill('AEAD_AES_128_GCM'), ...Array(N / 2).fill('AES128_CM_SHA1_80')], 'both SRTP profiles were negotiated and decrypted');
  assert.deepEqual(good.left, { left: N, status: { 200: N } }, 'every DELETE answered 200');
  await untilTornDown(s.daemon, base, { what: 'the daemon back to 0 viewers' });

  // The same judge on media whep_rx cannot decrypt: its key is one bit off.
  const bad = await session(s, ['--corrupt-key'], ['']);
  const refused = judge(bad.viewers, bad.sent);
  console.log(`with --corrupt-key: ${refused.length} problems, e.g. ${refused[0]}`);
  assert.ok(bad.viewers.every((v) => v.decryptFail > 0 && v.decryptOk === 0 && !v.firstIsKeyframe),
    'with a wrong key no packet decrypts and no first packet is a keyframe');
  assert.ok(refused.length >= N, 'the judge refuses every viewer of the wrong key');
  assert.deepEqual(bad.left, { left: N, status: { 200: N } });
  await untilTornDown(s.daemon, base, { what: 'the daemon back to 0 viewers' });
} finally {
  await s.stop();
}
process.exit(0);
