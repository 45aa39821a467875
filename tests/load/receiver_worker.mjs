// A bench worker: holds many real WebRTC receivers (werift). Driven over IPC:
//   {cmd:'join', n, target} -> {joined:[{post201, firstRtp, firstKey, connect}], failed}
//       target {kind:'whep', base}: POST through nginx exactly as players do;
//       target {kind:'janus', base, id}: attach to Janus's streaming mountpoint.
//   {cmd:'counts'}         -> {counts:[packets...], cpu:{user,system}}
//   {cmd:'leave', n}       -> {left}
import os from 'node:os';
import { createReceiver } from '../lib/peer.mjs';
import { joinJanus } from './janus.mjs';

const viewers = [];
// The load client shares this 2-core box with the server under test; players
// would be other machines. Below the server's priority (BENCH_CLIENT_NICE,
// default 10) it cannot starve the encoder; if it falls behind instead, its
// own counts drop and the bench reports those viewers under 95 %.
os.setPriority(Number(process.env.BENCH_CLIENT_NICE ?? 10));

async function joinWhep(base) {
  // BENCH_H264_PROFILE: the H.264 profile-level-id offered (the bench's clip is High).
  const r = await createReceiver({ audio: true, h264Profile: process.env.BENCH_H264_PROFILE ?? '42e01f' });
  const t0 = performance.now();
  const res = await fetch(`${base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: r.offer });
  const post201 = performance.now() - t0;
  if (res.status !== 201) { await r.close(); return { failed: res.status }; }
  const url = base + res.headers.get('location');
  await r.accept(await res.text());
  return { r, t0, post201,
    async leave() { await fetch(url, { method: 'DELETE' }).catch(() => {}); await r.close(); } };
}

async function joinOne(target) {
  const v = target.kind === 'janus' ? await joinJanus(target.base, target.id) : await joinWhep(target.base);
  if (v.failed) return v;
  viewers.push(v);
  try {
    const st = await v.r.waitPackets(1, 15000);
    return { post201: v.post201 ?? v.offered, firstRtp: st.firstPacketAt - v.t0,
      firstKey: (st.firstKeyframeAt ?? NaN) - v.t0, connect: st.connectedAt - v.t0 };
  } catch (e) {
    // Not one of the viewers held: it would count as a zero-rate viewer and
    // be the first one a later 'leave' lets go of.
    viewers.splice(viewers.indexOf(v), 1);
    await v.leave().catch(() => {});
    return { failed: 'no-media' };
  }
}

process.on('message', async (m) => {
  if (m.cmd === 'join') {
    const out = await Promise.all(Array.from({ length: m.n }, () => joinOne(m.target).catch((e) => ({ failed: String(e) }))));
    process.send({ joined: out.filter((x) => !x.failed), failed: out.filter((x) => x.failed).length });
  } else if (m.cmd === 'counts') {
    process.send({ counts: viewers.map((v) => v.r.stats().packets), cpu: process.cpuUsage() });
  } else if (m.cmd === 'leave') {
    const gone = viewers.splice(0, m.n);
    await Promise.all(gone.map((v) => v.leave()));
    process.send({ left: gone.length });
  } else if (m.cmd === 'exit') {
    process.exit(0);
  }
});
process.send({ ready: true });
