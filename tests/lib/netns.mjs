// A private network namespace for the player tests: the test re-runs itself
// under `unshare --net`, with loopback and a veth pair whose one end has the
// address (TEST_ADDR) the daemon's candidates use. A page without a camera or
// microphone permission gets Firefox's candidates on the default route's
// address only (never loopback, whatever the prefs), and Firefox pairs no
// loopback candidate with another: so the default route goes through TEST_ADDR
// here, an address of this namespace's own that no packet leaves. The
// namespace goes with the test's last process.
import { execFileSync, spawnSync } from 'node:child_process';

export const TEST_ADDR = '10.204.0.1';

export function enterPrivateNetwork() {
  if (process.env.WHEPCAM_NETNS === String(process.ppid)) {
    const ip = (...a) => execFileSync('ip', a, { stdio: 'pipe' });
    ip('link', 'set', 'lo', 'up');
    ip('link', 'add', 'wcp0', 'type', 'veth', 'peer', 'name', 'wcp1');
    ip('addr', 'add', `${TEST_ADDR}/24`, 'dev', 'wcp0');
    for (const dev of ['wcp0', 'wcp1']) ip('link', 'set', dev, 'up');
    // Firefox gathers on the default route's address only (no camera or
    // microphone permission): make it TEST_ADDR. Nothing is beyond wcp1.
    ip('route', 'add', 'default', 'dev', 'wcp0');
    return;
  }
  const r = spawnSync('unshare', ['--net', '--', process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, WHEPCAM_NETNS: String(process.pid) } });
  process.exit(r.status ?? 1);
}
