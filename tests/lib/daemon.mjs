// Starts the real whepcamd on a private socket and talks its protocol
// (docs/protocol.md): one JSON request and one JSON reply per connection.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const buildDir = process.env.BUILD || path.join(repo, 'build');
export const outDir = process.env.TEST_OUT || path.join(buildDir, 'test-out');

// Daemons this process started: a test that throws or is interrupted must
// not leave one running.
const running = new Set();
process.on('exit', () => { for (const c of running) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => { for (const c of running) c.kill('SIGKILL'); process.exit(128 + (sig === 'SIGINT' ? 2 : 15)); });
}

// A crash at shutdown must fail the test that caused it: a process stopped
// by SIGTERM exits 0, is not killed by a signal, and has no sanitizer report
// (ASan, LSan and UBSan write to stderr; UBSan does not even change the status).
const sanitizerReport = /ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer/;
export function logTail(text, lines = 40) {
  return text.split('\n').slice(-lines - 1).join('\n');
}
// Throws, with the log's tail, unless `code` (exit status or signal name) is a clean exit.
export function assertCleanExit(what, code, log) {
  const report = sanitizerReport.exec(log);
  if (code === 0 && !report) return;
  const why = code !== 0 ? (typeof code === 'string' ? `killed by ${code}` : `exit status ${code}`)
    : `sanitizer report "${report[0]}"`;
  const at = report && code === 0 ? log.slice(Math.max(0, report.index - 200)) : log;
  throw new Error(`${what} did not exit cleanly: ${why}\n--- log tail ---\n${logTail(at)}`);
}

// Send raw bytes, resolve with the raw reply (or '' when the daemon just closes).
export function rawRequest(socket, bytes, { timeoutMs = 10000, end = false } = {}) {
  return new Promise((resolve, reject) => {
    const c = net.createConnection(socket);
    let buf = '';
    const timer = setTimeout(() => { c.destroy(); reject(new Error(`no reply within ${timeoutMs} ms`)); }, timeoutMs);
    c.on('data', (d) => { buf += d; });
    c.on('close', () => { clearTimeout(timer); resolve(buf); });
    c.on('error', (e) => { if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') { clearTimeout(timer); reject(e); } });
    c.write(bytes);
    if (end) c.end();
  });
}

export async function request(socket, obj, opts) {
  const reply = await rawRequest(socket, JSON.stringify(obj) + '\n', opts);
  return JSON.parse(reply);
}

// Wait for `predicate(line)` to match a line of the child's stderr.
function waitForLine(child, logs, predicate, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`${what}: not seen within ${timeoutMs} ms\n${logs.join('')}`)); }, timeoutMs);
    const onData = () => { if (logs.join('').split('\n').some(predicate)) { cleanup(); resolve(); } };
    const onExit = (code) => { cleanup(); reject(new Error(`${what}: exited with ${code}\n${logs.join('')}`)); };
    function cleanup() { clearTimeout(timer); child.stderr.off('data', onData); child.off('exit', onExit); }
    child.stderr.on('data', onData);
    child.on('exit', onExit);
    onData();
  });
}

// Start whepcamd with the test source, loopback-only ICE, debug logs and `args`
// (later args win). `config`: ini text written to <dir>/whepcam.conf. `env`: added
// to this process's environment. Its stderr goes to $TEST_OUT/<name>-<pid>.log.
// `iceAddress`: the --ice-address given first (127.0.0.1); null gives none, so
// the daemon's own choice of addresses (or --interfaces) is what is tested.
export async function startDaemon({ args = [], env = {}, config, name = 'whepcamd', socket,
  iceAddress = '127.0.0.1' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-'));
  socket = socket || path.join(dir, 'whepcamd.sock');
  const pre = [];
  if (config !== undefined) {
    fs.writeFileSync(path.join(dir, 'whepcam.conf'), config);
    pre.push('--config', path.join(dir, 'whepcam.conf'));
  }
  const all = [...pre, '--socket', socket, '--source', 'test:', ...(iceAddress ? ['--ice-address', iceAddress] : []),
    '--log-level', 'debug', ...args];
  const logs = [];
  const child = spawn(path.join(buildDir, 'whepcamd'), all, {
    stdio: ['ignore', 'inherit', 'pipe'], env: { ...process.env, ...env } });
  child.on('error', (e) => logs.push(`spawn: ${e.message}\n`));
  if (child.pid === undefined) throw new Error(`cannot start ${path.join(buildDir, 'whepcamd')} (run make all)`);
  running.add(child);
  // The log goes to the file as it arrives: a test killed by its timeout keeps it.
  fs.mkdirSync(outDir, { recursive: true });
  const logFd = fs.openSync(path.join(outDir, `${name}-${child.pid}.log`), 'w');
  child.stderr.on('data', (d) => { logs.push(d.toString()); fs.writeSync(logFd, d); });
  const exited = new Promise((resolve) => child.on('close', (code, sig) => {
    running.delete(child);
    fs.closeSync(logFd);
    resolve(code ?? sig);
  }));
  try {
    await waitForLine(child, logs, (l) => l.includes('ready:'), 15000, 'whepcamd ready');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    socket, dir, pid: child.pid, proc: child, exited,
    request: (obj, opts) => request(socket, obj, opts),
    requestRaw: (bytes, opts) => rawRequest(socket, bytes, opts),
    log: () => logs.join(''),
    // Open file descriptors, from /proc (the health reply has threads, not these).
    fds: () => fs.readdirSync(`/proc/${child.pid}/fd`).length,
    // SIGTERM (SIGKILL 10 s later), then throws unless the exit was clean
    // (assertCleanExit); returns the exit status, so 0. `clean: false` only
    // returns the status, for a test that kills the daemon on purpose.
    async stop({ clean = true } = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(t);
      }
      const code = await exited;
      // Remove the private directory unless something else is left there: files
      // stack.mjs put there, or a socket the daemon failed to remove (a test checks).
      try {
        const left = fs.readdirSync(dir).filter((f) => f !== 'whepcam.conf');
        if (left.length === 0) fs.rmSync(dir, { recursive: true, force: true });
      } catch { /* already gone */ }
      if (clean) assertCleanExit(`whepcamd (pid ${child.pid})`, code, logs.join(''));
      return code;
    },
  };
}

// Media sessions still allocated in the daemon (from a health reply): webrtcbins
// not yet finalized plus direct-path peers not yet freed. A leak shows here.
export function mediaAlive(h) {
  return h.webrtcbins + (h.peers ?? 0);
}

// The health reply plus the open descriptors: what a leak would show in.
export async function resources(d) {
  return { ...(await d.request({ op: 'health' })), fds: d.fds() };
}

// A baseline to compare with after viewers leave: no viewer or media session,
// and threads and descriptors unchanged for 2 s (GLib pools idle out after a
// few seconds), so the baseline is not a moment with extra threads still alive.
export async function settledBaseline(d, { timeoutMs = 20000, what = 'a settled baseline' } = {}) {
  let prev = null, since = 0;
  return until(async () => {
    const r = await resources(d);
    const same = prev && r.viewers === 0 && mediaAlive(r) === 0 && r.threads === prev.threads && r.fds === prev.fds;
    if (!same) { prev = r; since = Date.now(); }
    return same && Date.now() - since >= 2000 && r;
  }, { timeoutMs, everyMs: 250, what }).catch((e) => { throw new Error(`${e.message}; last health: ${JSON.stringify(prev)}`); });
}

// Wait until every viewer is gone and torn down: no viewer, no webrtcbin or
// direct peer alive, threads back within 2 of `base` (GLib pools idle out
// after a few seconds) and no more descriptors than `base` had.
export async function untilTornDown(d, base, { timeoutMs = 15000, what = 'torn down' } = {}) {
  let r;
  return until(async () => {
    r = await resources(d);
    return r.viewers === 0 && mediaAlive(r) === 0 && r.threads <= base.threads + 2 && r.fds <= base.fds && r;
  }, { timeoutMs, everyMs: 100, what: `${what} (baseline ${JSON.stringify(base)})` })
    .catch((e) => { throw new Error(`${e.message}; last: ${JSON.stringify(r)}`); });
}

// Poll `fn` until it returns a truthy value; a bounded wait on an observable state.
export async function until(fn, { timeoutMs = 10000, everyMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
}
