// The bench's receivers: worker processes (receiver_worker.mjs) that each
// hold many werift peers, the /proc readings of the server they load, and
// one steady measuring window over both.
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(here, 'receiver_worker.mjs');
const CLK_TCK = 100;

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

function ask(w, msg) {
  return new Promise((resolve) => { w.once('message', resolve); w.send(msg); });
}

// `netns` (from janus.mjs's createNetns) runs the workers inside it.
export async function startFleet(size, netns = null) {
  const workers = [];
  for (let i = 0; i < size; i++) {
    const w = netns
      ? spawn('ip', netns.exec(process.execPath, [WORKER]), { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] })
      : fork(WORKER, [], { stdio: 'inherit' });
    await new Promise((r) => w.once('message', r));
    w.held = 0;
    workers.push(w);
  }
  return { workers, held: () => workers.reduce((a, w) => a + w.held, 0),
    stop: () => { for (const w of workers) w.send({ cmd: 'exit' }); } };
}

// Bring the fleet to `n` viewers of `target`; joins go in batches of up to
// 10 per worker, all workers at once. Returns each join's timings.
export async function setViewers(fleet, target, n) {
  const { workers } = fleet;
  const joined = [];
  let failed = 0;
  for (;;) {
    const held = fleet.held();
    if (held === n) break;
    if (held > n) {
      let extra = held - n;
      for (const w of workers) {
        const k = Math.min(extra, w.held);
        if (k) { await ask(w, { cmd: 'leave', n: k }); w.held -= k; extra -= k; }
      }
      continue;
    }
    const want = n - held;
    const per = workers.map((_, i) => Math.min(10, Math.floor(want / workers.length) + (i < want % workers.length ? 1 : 0)));
    const replies = await Promise.all(workers.map((w, i) => (per[i] ? ask(w, { cmd: 'join', n: per[i], target }) : { joined: [], failed: 0 })));
    replies.forEach((r, i) => { workers[i].held += r.joined.length; joined.push(...r.joined); failed += r.failed; });
    if (replies.every((r) => r.joined.length === 0)) break; // nothing more will join
  }
  return { joined, failed };
}

// Packets each viewer has received so far, and the workers' own CPU time.
export async function counts(fleet) {
  const rs = await Promise.all(fleet.workers.map((w) => ask(w, { cmd: 'counts' })));
  return { counts: rs.flatMap((r) => r.counts), cpuUs: rs.reduce((a, r) => a + r.cpu.user + r.cpu.system, 0) };
}

// One steady window of `ms` over server `pid` and the fleet: the server's CPU
// (% of one core, whole process; `relayCpu` without threads matching `skip`),
// RSS, threads, fds, each viewer's packets/s and the load client's own CPU.
// `extra()` is read at both ends (for the server's own counters).
export async function serverWindow(fleet, pid, ms, { skip = /^$/, extra = async () => null } = {}) {
  const read = async () => ({ p: proc(pid), r: ticksExcept(pid, skip), c: await counts(fleet), x: await extra() });
  const a = await read(), t0 = performance.now();
  await sleep(ms);
  const b = await read(), secs = (performance.now() - t0) / 1000;
  const cpu = (ticks) => (ticks / CLK_TCK / secs) * 100;
  return {
    secs, cpu: cpu(b.p.ticks - a.p.ticks), relayCpu: cpu(b.r - a.r), rssMb: b.p.rssKb / 1024,
    threads: b.p.threads, fds: b.p.fds, rates: b.c.counts.map((x, i) => (x - (a.c.counts[i] ?? 0)) / secs),
    clientCpu: ((b.c.cpuUs - a.c.cpuUs) / 1e6 / secs) * 100, extra: [a.x, b.x],
  };
}
