// Daemon stopped: 503 + Retry-After. Restarted on the same socket: 201 again,
// with nginx (master and workers) and the handler the same processes as before.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startStack, curl } from '../lib/stack.mjs';

// A process's identity: its pid and its start time (/proc/<pid>/stat field 22,
// in clock ticks since boot), so a pid reused by a new process does not pass.
function identity(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields 3 onwards
  return `${pid}@${fields[22 - 3]}`;
}
// nginx as its pid file names it, and its workers.
function nginxIdentity(s) {
  const master = Number(fs.readFileSync(path.join(s.dir, 'nginx', 'nginx.pid'), 'utf8').trim());
  const workers = fs.readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  assert.ok(workers.length > 0, 'nginx has its workers');
  return { master: identity(master), workers: workers.map(Number).map(identity).sort() };
}

const s = await startStack({ daemonArgs: ['--width', '320', '--height', '240'] });
const offer = new URL('../data/offer-chromium.sdp', import.meta.url).pathname;
const post = () => curl(['-X', 'POST', '-H', 'Content-Type: application/sdp', '--data-binary', `@${offer}`, `${s.base}/whep/cam`]);
try {
  assert.equal(post().status, 201);
  const fcgiBefore = identity(s.fcgi.child.pid), nginxBefore = nginxIdentity(s);
  assert.equal(nginxBefore.master, identity(s.nginx.child.pid), 'the pid file names the nginx we started');
  const daemonBefore = identity(s.daemon.pid);
  assert.equal(await s.stopDaemon(), 0);
  const down = post();
  assert.equal(down.status, 503);
  assert.equal(down.headers['retry-after'][0], '5');
  assert.equal(down.headers['content-type'][0], 'application/problem+json');
  assert.match(JSON.parse(down.body).detail, /daemon is not running/);
  assert.equal(curl([`${s.base}/whep/`]).status, 503);
  await s.restartDaemon();
  assert.notEqual(identity(s.daemon.pid), daemonBefore, 'a new daemon answers');
  assert.equal(post().status, 201);
  assert.equal(identity(s.fcgi.child.pid), fcgiBefore, 'the handler is the same process');
  assert.deepEqual(nginxIdentity(s), nginxBefore, 'nginx, master and workers, is the same processes');
} finally {
  await s.stop();
}
process.exit(0);
