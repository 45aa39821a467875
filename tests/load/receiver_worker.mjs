// A bench worker: holds many real WebRTC receivers (werift) that join
// through the HTTP endpoint exactly as players do. Driven over IPC by bench.mjs:
//   {cmd:'join', n, base}  -> {joined:[{post201, firstRtp, firstKey}], failed}
//   {cmd:'counts'}         -> {counts:[packets...], cpu:{user,system}}
//   {cmd:'leave', n}       -> {left}
import { createReceiver } from '../lib/peer.mjs';

const viewers = [];
async function joinOne(base) {
  const r = await createReceiver({ audio: true });
  const t0 = performance.now();
  const res = await fetch(`${base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: r.offer });
  const post201 = performance.now() - t0;
  if (res.status !== 201) { await r.close(); return { failed: res.status }; }
  const v = { r, url: base + res.headers.get('location') };
  await r.accept(await res.text());
  viewers.push(v);
  try {
    const st = await r.waitPackets(1, 15000);
    return { post201, firstRtp: st.firstPacketAt - t0, firstKey: (st.firstKeyframeAt ?? NaN) - t0, connect: st.connectedAt - t0 };
  } catch (e) {
    return { post201, failed: 'no-media' };
  }
}

process.on('message', async (m) => {
  if (m.cmd === 'join') {
    const out = await Promise.all(Array.from({ length: m.n }, () => joinOne(m.base).catch((e) => ({ failed: String(e) }))));
    process.send({ joined: out.filter((x) => !x.failed), failed: out.filter((x) => x.failed).length });
  } else if (m.cmd === 'counts') {
    process.send({ counts: viewers.map((v) => v.r.stats().packets), cpu: process.cpuUsage() });
  } else if (m.cmd === 'leave') {
    const gone = viewers.splice(0, m.n);
    await Promise.all(gone.map(async (v) => { await fetch(v.url, { method: 'DELETE' }).catch(() => {}); await v.r.close(); }));
    process.send({ left: gone.length });
  } else if (m.cmd === 'exit') {
    process.exit(0);
  }
});
process.send({ ready: true });
