// The whole stack on loopback: whepcamd, whepcam-fcgi and a private nginx
// on a free port, in a temporary run directory. Each test starts its own.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startDaemon, buildDir, outDir, until, assertCleanExit } from './daemon.mjs';

const repo = path.resolve(buildDir, '..');

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function canConnect(socketPath) {
  return new Promise((resolve) => {
    const c = net.createConnection(socketPath);
    c.on('connect', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  });
}

function spawnLogged(cmd, args, name) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  const exited = new Promise((resolve) => child.on('exit', (code, sig) => {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `${name}-${child.pid}.log`), logs.join(''));
    resolve(code ?? sig);
  }));
  return { child, logs, exited };
}

// SIGTERM (SIGKILL 10 s later); resolves with the exit status or signal name.
async function stopChild(p) {
  if (p.child.exitCode === null && p.child.signalCode === null) {
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), 10000);
    await p.exited;
    clearTimeout(t);
  }
  return p.exited;
}

// The site's commented HTTPS lines, switched on with a throwaway certificate
// for 127.0.0.1: exactly what docs/deploy.md tells a user to do.
function enableTls(siteFile, dir) {
  const cert = path.join(dir, 'cert.pem'), key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=whepcam-test', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  const site = fs.readFileSync(siteFile, 'utf8');
  const on = site.replace(/^(\s*)#(listen \S+ ssl;)$/m, '$1$2')
    .replace(/^(\s*)#ssl_certificate\s+\S+;$/m, `$1ssl_certificate ${cert};`)
    .replace(/^(\s*)#ssl_certificate_key\s+\S+;$/m, `$1ssl_certificate_key ${key};`);
  if (on.split('\n').filter((l, i) => l !== site.split('\n')[i]).length !== 3)
    throw new Error('the site no longer has the three commented HTTPS lines');
  fs.writeFileSync(siteFile, on);
  return cert;
}

// Every test's players come from 127.0.0.1, many at once: unless a test asks
// for the production limits (`clientLimits: true`), the daemon's per-address
// caps are off (and the pending cap high) and nginx's POST rate is high (POST_RATE/POST_BURST in the
// environment still win); tests/integration/http_client_limits.mjs checks the real ones.
export async function startStack({ daemonArgs = [], config, fcgiArgs = [], tls = false, clientLimits = false } = {}) {
  daemonArgs = clientLimits ? daemonArgs : ['--max-viewers-per-address', '0', '--max-pending', '1000', ...daemonArgs];
  let daemon = await startDaemon({ args: daemonArgs, config });
  const dir = daemon.dir;
  const fcgiSocket = path.join(dir, 'fcgi.sock');
  const fcgi = spawnLogged(path.join(buildDir, 'whepcam-fcgi'),
    ['--listen', fcgiSocket, '--listen-mode', '0666', '--daemon-socket', daemon.socket, ...fcgiArgs], 'whepcam-fcgi');
  await until(() => canConnect(fcgiSocket), { timeoutMs: 5000, what: 'whepcam-fcgi listening' });

  const port = await freePort();
  const tlsPort = tls ? await freePort() : 0;
  const runDir = path.join(dir, 'nginx');
  execFileSync('sh', [path.join(repo, 'nginx/render.sh'), 'local', runDir], {
    env: { ...(clientLimits ? {} : { POST_RATE: '1000', POST_BURST: '1000' }), ...process.env,
      HOST: '127.0.0.1', PORT: String(port), TLS_PORT: String(tlsPort),
      FCGI_SOCKET: fcgiSocket, WEB_ROOT: path.join(repo, 'web') },
  });
  const cert = tls ? enableTls(path.join(runDir, 'whepcam-site.conf'), dir) : null;
  const nginx = spawnLogged('nginx', ['-c', path.join(runDir, 'nginx.conf'), '-e', path.join(runDir, 'nginx-error.log')], 'nginx');
  const base = `http://127.0.0.1:${port}`;
  await until(async () => {
    try { return (await fetch(`${base}/whep/`)).status === 200; } catch { return false; }
  }, { timeoutMs: 10000, what: 'nginx answering /whep/' });

  const stack = {
    base, port, dir, fcgi, nginx,
    tlsBase: tls ? `https://127.0.0.1:${tlsPort}` : null, cert,
    get daemon() { return daemon; },
    async stopDaemon() { return daemon.stop(); },
    // Same socket path: the handler and nginx keep running.
    async restartDaemon() {
      daemon = await startDaemon({ args: daemonArgs, config, socket: daemon.socket });
      return daemon;
    },
    // Stops all three, then throws (with their logs' tails) unless each exited
    // cleanly: status 0 after SIGTERM, no signal death, no sanitizer report, and
    // no nginx worker that died on a signal (the master would still exit 0).
    async stop() {
      const problems = [];
      const check = (f) => { try { f(); } catch (e) { problems.push(e.message); } };
      const nginxCode = await stopChild(nginx);
      let errorLog = '';
      try { errorLog = fs.readFileSync(path.join(runDir, 'nginx-error.log'), 'utf8'); } catch { /* never opened */ }
      check(() => assertCleanExit(`nginx (pid ${nginx.child.pid})`, nginxCode, nginx.logs.join('') + errorLog));
      const crashed = /exited on signal \d+|\[emerg\]/.exec(errorLog);
      if (crashed) problems.push(`nginx: "${crashed[0]}" in its error log\n${errorLog.slice(Math.max(0, crashed.index - 300), crashed.index + 300)}`);
      const fcgiCode = await stopChild(fcgi);
      check(() => assertCleanExit(`whepcam-fcgi (pid ${fcgi.child.pid})`, fcgiCode, fcgi.logs.join('')));
      let code;
      await daemon.stop().then((c) => { code = c; }, (e) => problems.push(e.message));
      fs.rmSync(dir, { recursive: true, force: true });
      if (problems.length) throw new Error(problems.join('\n'));
      return code;
    },
  };
  return stack;
}

// curl, as a user would run it: returns { status, headers (lower-case names, arrays), body }.
export function curl(args) {
  const out = execFileSync('curl', ['-sS', '-i', '--max-time', '20', ...args], { maxBuffer: 8 << 20 }).toString('latin1');
  const split = out.indexOf('\r\n\r\n');
  const head = out.slice(0, split).split('\r\n');
  const status = Number(head[0].split(' ')[1]);
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    const k = line.slice(0, i).toLowerCase();
    (headers[k] ??= []).push(line.slice(i + 1).trim());
  }
  return { status, headers, body: out.slice(split + 4) };
}
