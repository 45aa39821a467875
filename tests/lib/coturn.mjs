// A real coturn (Debian's turnserver) on 127.0.0.1 with TURN REST
// credentials (use-auth-secret), for relay tests. Loopback peers are
// allowed because every test address here is 127.0.0.1.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './stack.mjs';
import { outDir, until } from './daemon.mjs';

export async function startCoturn({ secret = 'whepcam-test-secret' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coturn-'));
  const port = await freePort();
  const relayMin = 49152 + Math.floor(Math.random() * 10000);
  const args = ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${relayMin}`, `--max-port=${relayMin + 200}`, '--use-auth-secret', `--static-auth-secret=${secret}`,
    '--realm=whepcam.test', '--allow-loopback-peers', '--no-cli', '--no-tls', '--no-dtls', '--no-tcp-relay',
    `--db=${dir}/turndb`, `--pidfile=${dir}/pid`, '--log-file=stdout', '--simple-log', '--verbose'];
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = [];
  child.stdout.on('data', (d) => logs.push(d.toString()));
  child.stderr.on('data', (d) => logs.push(d.toString()));
  const exited = new Promise((resolve) => child.on('close', (code) => {
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, `coturn-${child.pid}.log`), logs.join(''));
    resolve(code);
  }));
  await until(() => logs.join('').includes('Relay ports initialization done'), { timeoutMs: 10000, what: 'coturn ready' });
  return {
    port, secret, url: `turn:127.0.0.1:${port}?transport=udp`, log: () => logs.join(''),
    async stop() { child.kill('SIGTERM'); await exited; fs.rmSync(dir, { recursive: true, force: true }); },
  };
}
