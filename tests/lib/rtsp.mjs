// The test RTSP camera (tests/lib/rtsp_server.py, Debian's gst-rtsp-server
// through /usr/bin/python3): start it on a free port, stop it, start it
// again on the same port (a camera that goes away and comes back).
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const running = new Set();
process.on('exit', () => { for (const c of running) c.kill('SIGKILL'); });

export async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

// { url, stop(), start() }: `user`/`password` make it ask for them (Basic).
export async function startRtspServer({ port, user, password, gop = 120, size = '640x360', kbps = 1000, pattern = 'ball', mount = '/cam', audio = 'none' } = {}) {
  port ??= await freePort();
  let child = null;
  const start = () => new Promise((resolve, reject) => {
    const args = [path.join(here, 'rtsp_server.py'), String(port), mount, ...(user ? [user, password] : [])];
    child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GOP: String(gop), SIZE: size, KBPS: String(kbps), PATTERN: pattern, AUDIO: audio } });
    running.add(child);
    let err = '';
    const timer = setTimeout(() => reject(new Error(`RTSP server not ready: ${err}`)), 15000);
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => { if (String(d).includes('ready')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { running.delete(child); clearTimeout(timer); reject(new Error(`RTSP server exited ${code}: ${err}`)); });
  });
  await start();
  const auth = user ? `${user}:${password}@` : '';
  return {
    port, url: `rtsp://${auth}127.0.0.1:${port}${mount}`,
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.kill('SIGKILL');
      await gone;
    },
    start,
  };
}
