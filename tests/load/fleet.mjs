// The bench's receivers, the /proc readings of the server they load, and
// one steady measuring window over both. Two kinds of worker answer the same
// messages (join, counts, leave, exit): node processes (receiver_worker.mjs)
// that each hold many werift peers, which decrypt and parse every packet,
// and whep_rx (tests/load/rx/, built by make test and make bench), one C
// process holding every viewer, which counts packets from their headers and
// decrypts a few: the cheap one for capacity runs.
import { fork, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { buildDir } from '../lib/daemon.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(here, 'receiver_worker.mjs');
const CLK_TCK = 100;
export const WHEP_RX = path.join(buildDir, 'whep_rx');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export function pct(xs, p) {
  const a = xs.filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return NaN;
  if (p === 0.5 && a.length % 2 === 0) return (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  return a[Math.min(a.length - 1, Math.floor(p * a.length))];
}
export const median = (xs) => pct(xs, 0.5);

// A server process's CPU ticks, RSS, threads and open fds, from /proc.
export function proc(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)[1]);
  return { ticks: Number(f[11]) + Number(f[12]), rssKb: field('VmRSS'), threads: field('Threads'),
    fds: fs.readdirSync(`/proc/${pid}/fd`).length };
}

// CPU ticks of a process's live threads whose name does not match `skip`.
// whepcamd's source and encoder run on the source's streaming thread and the
// libvpx workers it spawns, which inherit its name (videotestsrc0:src): leaving
// them out leaves the viewer path, without the encoder's ±5 % of a core noise.
export function ticksExcept(pid, skip) {
  let ticks = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (skip.test(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch { /* the thread ended between readdir and read */ }
  }
  return ticks;
}

// One request to a worker (either kind) and its reply.
export function ask(w, msg) {
  return new Promise((resolve) => { w.once('message', resolve); w.send(msg); });
}

// whep_rx as a worker: its JSON lines on stdout are the messages, and a
// join's target becomes its base URL. It joins only WHEP targets (Janus
// offers; whep_rx only offers). `args`: whep_rx's options (--local, --tick-ms …).
function startWhepRx(netns, args) {
  if (!fs.existsSync(WHEP_RX)) throw new Error(`${WHEP_RX} is missing: make ${path.relative(process.cwd(), WHEP_RX)}`);
  const child = netns ? spawn('ip', netns.exec(WHEP_RX, args), { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(WHEP_RX, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const ee = new EventEmitter();
  const log = [];
  readline.createInterface({ input: child.stdout }).on('line', (l) => ee.emit('message', JSON.parse(l)));
  child.stderr.on('data', (d) => { log.push(d.toString()); process.stderr.write(d); });
  const exited = new Promise((resolve) => child.on('close', (code, sig) => {
    if (!w.stopping) ee.emit('message', { error: `whep_rx exited (${code ?? sig})`, joined: [], failed: 0, counts: [], cpu: { user: 0, system: 0 } });
    resolve(code ?? sig);
  }));
  const w = {
    kind: 'c', child, pid: child.pid, stopping: false,
    exited, log: () => log.join(''), // its exit status once told to exit; its stderr
    // whep_rx takes up to this many joins per request, `parallel` of them in flight.
    batch: Number(process.env.BENCH_RX_BATCH ?? 50),
    once: (ev, fn) => ee.once(ev, fn),
    send(m) {
      if (m.cmd === 'join' && m.target) { // fleet's form; whep_rx's own (base, profile …) goes as it is
        if (m.target.kind !== 'whep') throw new Error(`whep_rx joins WHEP targets only, not ${m.target.kind}`);
        m = { cmd: 'join', n: m.n, base: m.target.base, stream: m.target.stream ?? 'cam', parallel: Number(process.env.BENCH_RX_PARALLEL ?? 25) };
      }
      if (m.cmd === 'exit') w.stopping = true;
      child.stdin.write(JSON.stringify(m) + '\n');
    },
  };
  return w;
}

// `netns` (from janus.mjs's createNetns) runs the workers inside it.
// receiver 'werift': `size` node workers; 'c': one whep_rx (size ignored),
// at BENCH_CLIENT_NICE as the werift workers set themselves.
export async function startFleet(size, netns = null, { receiver = 'werift', args = [] } = {}) {
  const workers = [];
  const n = receiver === 'c' ? 1 : size;
  for (let i = 0; i < n; i++) {
    let w;
    if (receiver === 'c') {
      w = startWhepRx(netns, args);
      try { os.setPriority(w.pid, Number(process.env.BENCH_CLIENT_NICE ?? 10)); } catch { /* exited already: the first message says so */ }
    } else {
      w = netns
        ? spawn('ip', netns.exec(process.execPath, [WORKER]), { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] })
        : fork(WORKER, [], { stdio: 'inherit' });
      w.kind = 'werift';
      w.batch = 10;
    }
    const first = await new Promise((r) => w.once('message', r));
    if (first.error) throw new Error(first.error);
    w.held = 0;
    workers.push(w);
  }
  // stop() resolves with whep_rx's exit statuses once it has exited (werift workers: at once).
  return { workers, receiver, held: () => workers.reduce((a, w) => a + w.held, 0),
    stop: () => {
      for (const w of workers) w.send({ cmd: 'exit' });
      return Promise.all(workers.filter((w) => w.exited).map((w) => w.exited));
    } };
}

// Per-viewer detail from the whep_rx workers of `fleet` (none for werift):
// packets, missing, first packet a keyframe, decryptions that failed, …
export async function rxStats(fleet) {
  const rs = await Promise.all(fleet.workers.filter((w) => w.kind === 'c').map((w) => ask(w, { cmd: 'stats' })));
  return rs.flatMap((r) => r.viewers ?? []);
}

// Bring the fleet to `n` viewers of `target`; joins go in batches of up to
// w.batch per worker (werift 10, whep_rx BENCH_RX_BATCH = 50), all workers at
// once. Returns each join's timings, the failures and why, and the statuses
// of the DELETEs of viewers let go.
export async function setViewers(fleet, target, n) {
  const { workers } = fleet;
  const joined = [];
  const reasons = {}; // why joins failed (whep_rx says; a werift worker only counts)
  const leftStatus = {}; // DELETE statuses of the viewers let go (whep_rx's)
  let failed = 0;
  for (;;) {
    const held = fleet.held();
    if (held === n) break;
    if (held > n) {
      let extra = held - n;
      for (const w of workers) {
        const k = Math.min(extra, w.held);
        if (k) {
          const r = await ask(w, { cmd: 'leave', n: k });
          w.held -= k; extra -= k;
          // whep_rx says how each DELETE went ({"200": k} when all went well).
          for (const [st, c] of Object.entries(r.status ?? {})) leftStatus[st] = (leftStatus[st] ?? 0) + c;
        }
      }
      continue;
    }
    const want = n - held;
    const per = workers.map((w, i) => Math.min(w.batch ?? 10, Math.floor(want / workers.length) + (i < want % workers.length ? 1 : 0)));
    const replies = await Promise.all(workers.map((w, i) => (per[i] ? ask(w, { cmd: 'join', n: per[i], target }) : { joined: [], failed: 0 })));
    replies.forEach((r, i) => {
      workers[i].held += r.joined.length; joined.push(...r.joined); failed += r.failed;
      for (const [k, v] of Object.entries(r.reasons ?? (r.failed ? { 'werift join failed': r.failed } : {}))) reasons[k] = (reasons[k] ?? 0) + v;
    });
    if (replies.every((r) => r.joined.length === 0)) break; // nothing more will join
  }
  return { joined, failed, reasons, leftStatus };
}

// Packets each viewer has received so far, and the workers' own CPU time;
// `kinds[i]` is the kind of worker that holds viewer i.
export async function counts(fleet) {
  const rs = await Promise.all(fleet.workers.map((w) => ask(w, { cmd: 'counts' })));
  const kinds = rs.flatMap((r, i) => r.counts.map(() => fleet.workers[i].kind));
  const cpuBy = {};
  rs.forEach((r, i) => { const k = fleet.workers[i].kind; cpuBy[k] = (cpuBy[k] ?? 0) + r.cpu.user + r.cpu.system; });
  return { counts: rs.flatMap((r) => r.counts), kinds, cpuBy, cpuUs: rs.reduce((a, r) => a + r.cpu.user + r.cpu.system, 0) };
}

// Two fleets read as one (the capacity receivers and the independent sample).
export function joinFleets(...fleets) {
  const fs_ = fleets.filter(Boolean);
  return { workers: fs_.flatMap((f) => f.workers), held: () => fs_.reduce((a, f) => a + f.held(), 0) };
}

// One steady window of `ms` over server `pid` and the fleet: the server's CPU
// (% of one core, whole process; `relayCpu` without threads matching `skip`),
// RSS, threads, fds, each viewer's packets/s and the load client's own CPU;
// `byKind` splits the rates and CPU by kind of worker (c, werift).
// `extra()` is read at both ends (for the server's own counters).
export async function serverWindow(fleet, pid, ms, { skip = /^$/, extra = async () => null } = {}) {
  const read = async () => ({ p: proc(pid), r: ticksExcept(pid, skip), c: await counts(fleet), x: await extra() });
  const a = await read(), t0 = performance.now();
  await sleep(ms);
  const b = await read(), secs = (performance.now() - t0) / 1000;
  const cpu = (ticks) => (ticks / CLK_TCK / secs) * 100;
  const rates = b.c.counts.map((x, i) => (x - (a.c.counts[i] ?? 0)) / secs);
  const byKind = {};
  for (const k of Object.keys(b.c.cpuBy))
    byKind[k] = { rates: rates.filter((_, i) => b.c.kinds[i] === k), cpu: ((b.c.cpuBy[k] - (a.c.cpuBy[k] ?? 0)) / 1e6 / secs) * 100 };
  return {
    secs, cpu: cpu(b.p.ticks - a.p.ticks), relayCpu: cpu(b.r - a.r), rssMb: b.p.rssKb / 1024,
    threads: b.p.threads, fds: b.p.fds, rates, byKind,
    clientCpu: ((b.c.cpuUs - a.c.cpuUs) / 1e6 / secs) * 100, extra: [a.x, b.x],
  };
}
