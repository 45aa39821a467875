// Janus 1.1.2 (Debian `janus`) beside whepcam in the bench. Its streaming
// plugin forwards RTP that gst-launch encodes with whepcamd's own encoder
// settings, so both servers relay the same kind of stream; receivers attach
// through Janus's HTTP API, where Janus offers and the receiver answers.
// Janus gets its best case: one plugin, one transport, the last keyframe
// kept for joining viewers (bufferkf), no session timeout.
//
// Janus never gathers on a loopback interface, so it runs in a network
// namespace of the bench's own with a veth pair (JANUS_ADDR, PEER_ADDR):
// local traffic there takes the same kernel path as whepcam's loopback.
// Its feed and its receivers (bench workers) run in that namespace too.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../lib/stack.mjs';
import { until } from '../lib/daemon.mjs';
import { createReceiver } from '../lib/peer.mjs';

// Where Debian put Janus's plugins (the multiarch directory differs by machine).
const janusLib = () => path.dirname(path.dirname(execFileSync('dpkg', ['-L', 'janus'], { encoding: 'utf8' })
  .split('\n').find((f) => f.endsWith('/plugins/libjanus_streaming.so'))));
export const JANUS_ADDR = '10.203.0.1';
export const PEER_ADDR = '10.203.0.2';

export function createNetns(name) {
  const ip = (...a) => execFileSync('ip', a, { stdio: 'pipe' });
  ip('netns', 'add', name);
  ip('-n', name, 'link', 'add', 'wcj0', 'type', 'veth', 'peer', 'name', 'wcj1');
  ip('-n', name, 'addr', 'add', `${JANUS_ADDR}/24`, 'dev', 'wcj0');
  ip('-n', name, 'addr', 'add', `${PEER_ADDR}/24`, 'dev', 'wcj1');
  for (const dev of ['lo', 'wcj0', 'wcj1']) ip('-n', name, 'link', 'set', dev, 'up');
  // No default route: name lookups (werift's default STUN server) fail at once.
  // libnice sends out of the candidate's own device, so a packet between the
  // two ends crosses the veth with a source address local to this namespace:
  // the kernel must accept that instead of dropping it as martian.
  for (const conf of ['all', 'default', 'wcj0', 'wcj1']) {
    ip('netns', 'exec', name, 'sysctl', '-qw', `net.ipv4.conf.${conf}.accept_local=1`);
    ip('netns', 'exec', name, 'sysctl', '-qw', `net.ipv4.conf.${conf}.rp_filter=0`);
  }
  return { name, exec: (cmd, args) => ['netns', 'exec', name, cmd, ...args], remove: () => ip('netns', 'del', name) };
}

// gst-launch's twin of daemon/media/stream.c's test source and media/track.c's vp8enc settings.
function feedPipeline({ width, height, fps, bitrateKbps, port, pattern = 'smpte' }) {
  return ['-q', 'videotestsrc', 'is-live=true', `pattern=${pattern}`, 'horizontal-speed=4', '!',
    `video/x-raw,width=${width},height=${height},framerate=${fps}/1`, '!',
    'clockoverlay', 'halignment=right', 'valignment=bottom', 'shaded-background=true', 'font-desc=Sans 24', '!',
    'videoconvert', '!', 'video/x-raw,format=I420', '!',
    'vp8enc', 'deadline=1', 'lag-in-frames=0', 'cpu-used=8', 'threads=2', `target-bitrate=${bitrateKbps * 1000}`,
    'keyframe-max-dist=300', 'buffer-size=1000', 'buffer-initial-size=500', 'buffer-optimal-size=600',
    'end-usage=cbr', 'error-resilient=default', '!',
    'rtpvp8pay', 'pt=96', 'picture-id-mode=15-bit', '!', 'udpsink', 'host=127.0.0.1', `port=${port}`];
}

// streams: [{ id, width, height, fps, bitrateKbps, pattern }]; netns from createNetns().
export async function startJanus(dir, streams, netns) {
  fs.mkdirSync(dir, { recursive: true });
  for (const sub of ['plugins', 'transports']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const lib = janusLib();
  fs.symlinkSync(`${lib}/plugins/libjanus_streaming.so`, path.join(dir, 'plugins/libjanus_streaming.so'));
  fs.symlinkSync(`${lib}/transports/libjanus_http.so`, path.join(dir, 'transports/libjanus_http.so'));
  const port = await freePort();
  for (const st of streams) st.port = await freePort();
  fs.writeFileSync(path.join(dir, 'janus.jcfg'), `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/none"
  loggers_folder = "${dir}/none"
  debug_level = ${process.env.JANUS_DEBUG ?? 3}
  session_timeout = 0
}
nat: {
  nice_debug = ${process.env.JANUS_NICE_DEBUG ?? false}
  ice_enforce_list = "wcj0"
}
media: {}
plugins: {}
transports: {}
events: { broadcast = false }
`);
  fs.writeFileSync(path.join(dir, 'janus.transport.http.jcfg'), `general: {
  base_path = "/janus"
  http = true
  port = ${port}
  ip = "127.0.0.1"
  https = false
}
admin: { admin_http = false }
`);
  fs.writeFileSync(path.join(dir, 'janus.plugin.streaming.jcfg'), `general: {}
${streams.map((st) => `s${st.id}: {
  type = "rtp"
  id = ${st.id}
  description = "bench ${st.bitrateKbps} kbps"
  media = ({ type = "video", mid = "v", port = ${st.port}, pt = 96, codec = "vp8", bufferkf = true })
}`).join('\n')}
`);
  const log = fs.openSync(path.join(dir, 'janus.log'), 'w');
  // `ip netns exec` execs the command, so the child's pid is Janus's own.
  const janus = spawn('ip', netns.exec('janus', ['-C', path.join(dir, 'janus.jcfg'), '-F', dir, '--disable-colors']),
    { stdio: ['ignore', log, log] });
  const base = `http://127.0.0.1:${port}`; // inside the namespace
  // /proc/PID/net/tcp shows the sockets of the process's own namespace.
  const listening = () => fs.readFileSync(`/proc/${janus.pid}/net/tcp`, 'utf8').split('\n')
    .some((l) => l.includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`));
  try {
    await until(() => { try { return listening(); } catch { return false; } },
      { timeoutMs: 15000, what: 'Janus listening on its HTTP port' });
  } catch (e) {
    janus.kill('SIGKILL');
    throw e;
  }
  const feeds = streams.map((st) => spawn('ip', netns.exec('gst-launch-1.0', feedPipeline(st)), { stdio: 'ignore' }));
  return {
    base, pid: janus.pid,
    async stop() {
      for (const p of [...feeds, janus]) p.kill('SIGTERM');
      await Promise.all([...feeds, janus].map((p) => (p.exitCode !== null ? null : new Promise((r) => p.once('exit', r)))));
    },
  };
}

let tx = 0;
async function janusCall(url, body) {
  const res = await fetch(url, { method: 'POST', body: JSON.stringify({ ...body, transaction: `t${++tx}` }) });
  const reply = await res.json();
  if (reply.janus === 'error') throw new Error(`Janus: ${reply.error?.reason}`);
  return reply;
}

// One viewer of mountpoint `id`, the way Janus's streaming demo attaches.
// Returns the same shape as a WHEP join: timings from the first request.
export async function joinJanus(base, id) {
  const t0 = performance.now();
  const session = (await janusCall(`${base}/janus`, { janus: 'create' })).data.id;
  const handleUrl = `${base}/janus/${session}/${(await janusCall(`${base}/janus/${session}`,
    { janus: 'attach', plugin: 'janus.plugin.streaming' })).data.id}`;
  await janusCall(handleUrl, { janus: 'message', body: { request: 'watch', id } });
  let offer = null;
  while (offer === null) {
    const ev = await (await fetch(`${base}/janus/${session}?maxev=1`)).json();
    if (ev.jsep?.type === 'offer') offer = ev.jsep.sdp;
    else if (ev.plugindata?.data?.error) throw new Error(`Janus: ${ev.plugindata.data.error}`);
  }
  const offered = performance.now() - t0;
  const r = await createReceiver({ remoteOffer: offer, host: PEER_ADDR });
  await janusCall(handleUrl, { janus: 'message', body: { request: 'start' }, jsep: { type: 'answer', sdp: r.answer } });
  // Every candidate was in the answer: Janus waits for this before it gives up on ICE.
  await janusCall(handleUrl, { janus: 'trickle', candidate: { completed: true } });
  return {
    r, t0, offered,
    async leave() {
      await janusCall(`${base}/janus/${session}`, { janus: 'destroy' }).catch(() => {});
      await r.close();
    },
  };
}
