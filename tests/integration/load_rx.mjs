// The bench's cheap receiver (whep_rx, tests/load/rx/) through the real
// stack: 20 viewers POST through nginx, pass ICE and DTLS (half offering only
// AES128_CM_SHA1_80, half only AEAD_AES_128_GCM), and over a window of 5 s
// each gets >= 95 % of what the daemon sent to each viewer, judged against
// whepcam_rtp_packets_sent_total (every viewer is in the fan-out for the
// whole window, so each was sent a 20th of it; the counter counts what left
// the daemon, so frames it skipped under load are not held against them).
// Every first packet decrypts to a VP8 keyframe of the configured size; every
// DELETE answers 200 and the daemon is back to 0 viewers. Then the same judge
// must refuse a whep_rx whose SRTP key is wrong (--corrupt-key): a receiver
// that counts headers must not pass media it cannot decrypt. Last, whep_rx
// --audio (the bench's sound rows) on the stream's test tone: the same judge
// on picture and sound together, and apart for the sound: ~50 Opus packets a
// second each, the first ones decrypted, none before the picture, on the
// answer's audio SSRC, and sender reports counted on both SSRCs. And whep_rx
// --gro (UDP_GRO: a GSO message comes whole) under the same judge.
import assert from 'node:assert/strict';
import { startStack } from '../lib/stack.mjs';
import { untilTornDown, resources, assertCleanExit } from '../lib/daemon.mjs';
import { sentCounters } from '../lib/metrics.mjs';
import { startFleet, ask } from '../load/fleet.mjs';

const N = 20;
const W = 640, H = 360;
const WINDOW_MS = 5000;

// What is wrong with these viewers (whep_rx stats; got[i]: packets viewer i
// counted in the window, perViewer: what the daemon sent each); [] if nothing.
function judge(viewers, got, perViewer) {
  const problems = [];
  viewers.forEach((v, i) => {
    const who = `viewer ${v.id}: ${got[i]} packets in the window of ${perViewer.toFixed(0)} sent to each, ${v.missing} missing in all`;
    if (got[i] < 0.95 * perViewer) problems.push(`${who}: under 95 %`);
    if (!v.firstIsKeyframe) problems.push(`${who}: first packet not a VP8 keyframe (${v.decryptOk} decrypted, ${v.decryptFail} failed)`);
    else if (v.width !== W || v.height !== H) problems.push(`${who}: keyframe ${v.width}x${v.height}, not ${W}x${H}`);
    if (v.decryptFail > 0 || v.decryptOk === 0) problems.push(`${who}: ${v.decryptFail} packets failed to decrypt, ${v.decryptOk} did`);
    if (v.ssrc !== v.answerSsrc) problems.push(`${who}: SSRC ${v.ssrc}, the answer said ${v.answerSsrc}`);
    if (v.dups || v.foreignSsrc || v.badPt || v.early) problems.push(`${who}: dups ${v.dups}, foreign SSRC ${v.foreignSsrc}, bad PT ${v.badPt}, before DTLS ${v.early}`);
  });
  return problems;
}

// Joins N viewers with whep_rx `args` (one join per SRTP profile in `halves`),
// measures a window, DELETEs them all; returns what judge() needs.
async function session(s, args, halves) {
  process.env.BENCH_CLIENT_NICE = '0'; // whep_rx answers at once, as the daemon does (the bench's is 10)
  const fleet = await startFleet(1, null, { receiver: 'c', args });
  const [rx] = fleet.workers;
  try {
    const joined = [];
    for (const profile of halves) {
      const j = await ask(rx, { cmd: 'join', n: N / halves.length, base: s.base, profile, parallel: 10 });
      assert.equal(j.failed, 0, `joins failed: ${JSON.stringify(j.reasons)}`);
      joined.push(...j.joined);
    }
    assert.equal(joined.length, N);
    assert.equal((await resources(s.daemon)).viewers, N, 'the daemon holds every viewer');
    // The counter between two counts, at both ends: each viewer's count at the
    // moment the daemon answered lies between them (a loaded main loop answers late).
    const read = async () => {
      const c0 = (await ask(rx, { cmd: 'counts' })).counts;
      const sent = (await sentCounters(s.daemon)).sent;
      const c1 = (await ask(rx, { cmd: 'counts' })).counts;
      return { sent, counts: c0.map((c, i) => (c + c1[i]) / 2) };
    };
    const a = await read();
    const a0 = (await ask(rx, { cmd: 'counts' })).audioCounts;
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const a1 = (await ask(rx, { cmd: 'counts' })).audioCounts;
    const b = await read();
    const { viewers, cpu } = await ask(rx, { cmd: 'stats' });
    const left = await ask(rx, { cmd: 'leave', n: N });
    return { viewers, got: b.counts.map((c, i) => c - a.counts[i]), perViewer: (b.sent - a.sent) / N, left, cpu,
      audioGot: a1.map((c, i) => c - a0[i]) };
  } finally {
    // whep_rx frees every viewer on exit: under ASan (BUILD=build-asan) a leak or worse shows here.
    const [code] = await fleet.stop();
    assertCleanExit(`whep_rx ${args.join(' ')}`, code, rx.log());
  }
}

const s = await startStack({ config: `[stream cam]\nsource = test:\nwidth = ${W}\nheight = ${H}\naudio = test\n` });
try {
  const base = await resources(s.daemon);
  const good = await session(s, [], ['cm', 'gcm']);
  const problems = judge(good.viewers, good.got, good.perViewer);
  console.log(`in ${WINDOW_MS} ms the daemon sent ${good.perViewer.toFixed(1)} packets to each viewer; they got ${good.got.join(' ')} ` +
    `(${good.viewers.reduce((a, v) => a + v.missing, 0)} missing in all since their first); whep_rx CPU ${((good.cpu.user + good.cpu.system) / 1000).toFixed(0)} ms`);
  assert.deepEqual(problems, [], 'every viewer played the media the daemon sent it');
  assert.deepEqual(good.viewers.map((v) => v.profile).sort(),
    [...Array(N / 2).fill('AEAD_AES_128_GCM'), ...Array(N / 2).fill('AES128_CM_SHA1_80')], 'both SRTP profiles were negotiated and decrypted');
  assert.deepEqual(good.left, { left: N, status: { 200: N } }, 'every DELETE answered 200');
  await untilTornDown(s.daemon, base, { what: 'the daemon back to 0 viewers' });

  // --gro (the bench's): the daemon's UDP GSO messages come whole, each
  // segment counted and its header read: the same judge holds.
  const gro = await session(s, ['--gro'], ['cm', 'gcm']);
  assert.deepEqual(judge(gro.viewers, gro.got, gro.perViewer), [], 'with UDP_GRO every viewer played what was sent');
  assert.deepEqual(gro.left, { left: N, status: { 200: N } });
  await untilTornDown(s.daemon, base, { what: 'the daemon back to 0 viewers' });

  // The same judge on media whep_rx cannot decrypt: its key is one bit off.
  const bad = await session(s, ['--corrupt-key'], ['']);
  const refused = judge(bad.viewers, bad.got, bad.perViewer);
  console.log(`with --corrupt-key: ${refused.length} problems, e.g. ${refused[0]}`);
  assert.ok(bad.viewers.every((v) => v.decryptFail > 0 && v.decryptOk === 0 && !v.firstIsKeyframe),
    'with a wrong key no packet decrypts and no first packet is a keyframe');
  assert.ok(refused.length >= N, 'the judge refuses every viewer of the wrong key');
  assert.deepEqual(bad.left, { left: N, status: { 200: N } });
  await untilTornDown(s.daemon, base, { what: 'the daemon back to 0 viewers' });

  // Picture and sound (--audio): Opus at 20 ms a packet is 50 a second.
  const av = await session(s, ['--audio'], ['cm', 'gcm']);
  assert.deepEqual(judge(av.viewers, av.got, av.perViewer), [], 'picture and sound: every viewer got what was sent');
  const want = (WINDOW_MS / 1000) * 50;
  const soundProblems = [];
  av.viewers.forEach((v, i) => {
    const who = `viewer ${v.id}: ${av.audioGot[i]} Opus packets in the window (about ${want} sent)`;
    if (av.audioGot[i] < 0.9 * want || av.audioGot[i] > 1.1 * want) soundProblems.push(`${who}: not ~50 a second`);
    if (v.audioSsrc === 0 || v.audioSsrc !== v.answerAudioSsrc) soundProblems.push(`${who}: SSRC ${v.audioSsrc}, the answer said ${v.answerAudioSsrc}`);
    if (v.audioDecryptOk !== 4 || v.audioDecryptFail) soundProblems.push(`${who}: ${v.audioDecryptOk} decrypted, ${v.audioDecryptFail} failed`);
    if (v.audioBeforeVideo) soundProblems.push(`${who}: ${v.audioBeforeVideo} before the picture's first packet`);
    if (v.audioForeignSsrc || v.audioMissing > 2) soundProblems.push(`${who}: foreign SSRC ${v.audioForeignSsrc}, missing ${v.audioMissing}`);
    if (!v.srVideo || !v.srAudio || v.srOther) soundProblems.push(`${who}: sender reports video ${v.srVideo}, audio ${v.srAudio}, other ${v.srOther}`);
  });
  console.log(`--audio: Opus packets per viewer in ${WINDOW_MS} ms: ${av.audioGot.join(' ')}; sender reports (video/audio) ${av.viewers.map((v) => `${v.srVideo}/${v.srAudio}`).join(' ')}`);
  assert.deepEqual(soundProblems, [], 'every viewer got the sound');
  assert.deepEqual(av.left, { left: N, status: { 200: N } });
  await untilTornDown(s.daemon, base, { what: 'the daemon back to 0 viewers' });
} finally {
  await s.stop();
}
process.exit(0);
