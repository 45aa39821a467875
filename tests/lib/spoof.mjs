// Forged-source UDP for tests that play an attacker (tests/lib/spoof.py,
// a raw socket: root only, as CI runs). send() resolves once the datagram
// has left; close() ends the helper.
import { spawn } from 'node:child_process';
import readline from 'node:readline';

export function startSpoofer() {
  const child = spawn('/usr/bin/python3', [new URL('./spoof.py', import.meta.url).pathname],
    { stdio: ['pipe', 'pipe', 'inherit'] });
  const waiting = [];
  let exited = null;
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const w = waiting.shift();
    if (!w) return;
    if (line === 'ok') w.resolve(); else w.reject(new Error(`spoof.py: ${line}`));
  });
  child.on('exit', (code) => {
    exited = code;
    for (const w of waiting.splice(0)) w.reject(new Error(`spoof.py exited with ${code} (raw sockets need root)`));
  });
  return {
    // One datagram from src:sport (forged) to dst:dport.
    send(src, sport, dst, dport, buf) {
      if (exited !== null) return Promise.reject(new Error(`spoof.py exited with ${exited}`));
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject });
        child.stdin.write(`${src} ${sport} ${dst} ${dport} ${buf.toString('hex')}\n`);
      });
    },
    close() { child.stdin.end(); return new Promise((r) => (exited !== null ? r() : child.once('exit', r))); },
  };
}
