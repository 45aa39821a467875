// GET /metrics is valid Prometheus text (checked by promtool) and its counters
// move when a viewer joins and leaves; /healthz follows the daemon.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startStack } from '../lib/stack.mjs';
import { createReceiver } from '../lib/peer.mjs';
import { until } from '../lib/daemon.mjs';

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
async function metrics() {
  const r = await fetch(`${s.base}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  execFileSync('promtool', ['check', 'metrics'], { input: text }); // throws on any problem
  const values = {};
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) values[m[1]] = Number(m[2]);
  }
  return values;
}
try {
  let m = await metrics();
  assert.equal(m['whepcam_viewers{stream="cam"}'], 0);
  assert.ok(m.whepcam_uptime_seconds >= 0);
  await until(async () => (await metrics())['whepcam_encoder_fps{stream="cam"}'] > 20, { what: 'encoder fps reported' });

  const r = await createReceiver();
  const res = await fetch(`${s.base}/whep/cam`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: r.offer });
  assert.equal(res.status, 201);
  await r.accept(await res.text());
  await r.waitPackets(50);
  assert.equal((await fetch(`${s.base}/whep/nope`, { method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: r.offer })).status, 404);
  m = await metrics();
  assert.equal(m['whepcam_viewers{stream="cam"}'], 1);
  assert.equal(m['whepcam_offers_total{status="201"}'], 1);
  assert.equal(m['whepcam_offers_total{status="404"}'], 1);
  assert.ok(m['whepcam_keyframes_forced_total{stream="cam"}'] >= 1, 'the join forced a keyframe');
  assert.ok(m.whepcam_rtp_packets_sent_total >= 50);
  assert.ok(m.whepcam_media_bytes_sent_total > 0);
  assert.ok(m['whepcam_encoder_frames_total{stream="cam"}'] > 0);

  assert.equal((await fetch(s.base + res.headers.get('location'), { method: 'DELETE' })).status, 200);
  const sent = r.stats().packets;
  m = await metrics();
  assert.equal(m['whepcam_viewers{stream="cam"}'], 0);
  assert.equal(m['whepcam_sessions_reaped_total{reason="delete"}'], 1);
  assert.ok(m.whepcam_rtp_packets_sent_total >= sent, 'traffic of a gone viewer is kept');

  // /healthz: 200 while the daemon answers, 503 + Retry-After when it is down.
  let h = await fetch(`${s.base}/healthz`);
  assert.equal(h.status, 200);
  assert.equal((await h.json()).status, 'ok');
  await s.stopDaemon();
  h = await fetch(`${s.base}/healthz`);
  assert.equal(h.status, 503);
  assert.ok(h.headers.get('retry-after'));
  await r.close();
} finally {
  await s.stop();
}
process.exit(0);
