// The docs' examples work as written. Every ini block of README.md, docs/*.md
// and whepcam.conf(5), and the installed example config with every commented
// key line uncommented, starts whepcamd to its "ready:" line and a clean exit.
// A comment after a value (GKeyFile takes it as part of the value) fails too.
// What the docs say the daemon prints about a missing camera is checked too.
// Only what this box cannot have is overridden on the command line: the
// control socket (a private one), each stream's camera (test:) and the ICE
// addresses (loopback); every other key is the file's own. Then every curl
// line of the README (and of docs/deploy.md's "Checking it") runs against the
// real stack, with its host and <session> filled in: it must exit 0 and get a
// 2xx (or the status its comment line names).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDir, outDir } from '../lib/daemon.mjs';
import { startStack } from '../lib/stack.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p) => fs.readFileSync(path.join(repo, p), 'utf8');
const mdFiles = ['README.md', ...fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

// Fenced blocks: [{ file, lang, text }].
function fenced(file) {
  return [...read(file).matchAll(/^```(\w*)[^\n]*\n([\s\S]*?)^```/gm)].map((m) => ({ file, lang: m[1], text: m[2] }));
}

// ---- ini examples ----
const looksIni = (b) => b.lang === 'ini' || /^\s*\[(daemon|ice|stream [^\]]+)\]\s*$/m.test(b.text);
const inis = mdFiles.flatMap(fenced).filter(looksIni).map((b) => ({ name: b.file, text: b.text }));
const man = read('docs/man/whepcam.conf.5');
for (const m of man.matchAll(/^\.EX\n([\s\S]*?)^\.EE/gm)) {
  if (/^\[daemon\]/m.test(m[1])) inis.push({ name: 'whepcam.conf(5)', text: m[1].replace(/\\-/g, '-').replace(/\\e/g, '\\') });
}
const example = read('deploy/whepcam.conf.example');
const uncommented = example.replace(/^#\s*([a-z][a-z-]*\s*=.*)$/gm, '$1');
assert.ok(uncommented !== example, 'the example config has commented keys');
inis.push({ name: 'deploy/whepcam.conf.example (every key uncommented)', text: uncommented });
assert.ok(inis.some((b) => b.name === 'README.md'), 'README.md has an ini example');
assert.ok(inis.some((b) => b.name === 'docs/config.md'), 'docs/config.md has an ini example');

// Start whepcamd with `text`; resolves with its stderr once it exited after SIGTERM.
async function runIni({ name, text, camera = false }, i) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whepcam-docs-'));
  const conf = path.join(dir, 'whepcam.conf');
  fs.writeFileSync(conf, text);
  const streams = [...text.matchAll(/^\s*\[stream ([^\]]+)\]\s*$/gm)].map((m) => m[1]);
  const overrides = ['--socket', path.join(dir, 'd.sock'), '--ice-address', '127.0.0.1',
    ...(camera ? [] : streams.length ? streams.flatMap((s) => ['--stream', s, '--source', 'test:']) : ['--source', 'test:'])];
  const child = spawn(path.join(buildDir, 'whepcamd'), ['--config', conf, ...overrides], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const exited = new Promise((resolve) => child.on('close', (code, sig) => resolve(code ?? sig)));
  const ready = await new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 20000);
    child.stderr.on('data', (d) => { log += d; if (/^whepcamd: ready:/m.test(log)) { clearTimeout(t); resolve(true); } });
    child.on('close', () => { clearTimeout(t); resolve(false); });
  });
  if (ready) child.kill('SIGTERM');
  else child.kill('SIGKILL');
  const code = await exited;
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, `docs-ini-${i}.log`), `${name}\n${text}\n--- ${overrides.join(' ')}\n${log}`);
  fs.rmSync(dir, { recursive: true, force: true });
  return { ready, code, log, overrides };
}

const failures = [];
for (const [i, b] of inis.entries()) {
  // GKeyFile has no trailing comments: "token = ; note" starts the daemon
  // with a token nobody meant, so no run would notice.
  const inline = /^[ \t]*[a-z][a-z-]*[ \t]*=[^\n]*[ \t][;#][^\n]*$/m.exec(b.text);
  if (inline) failures.push(`${b.name}: "${inline[0].trim()}": a comment after a value is part of the value`);
  const r = await runIni(b, i);
  const firstLine = r.log.split('\n').find((l) => l.startsWith('whepcamd: ') && !l.includes('ready:')) ?? r.log.split('\n')[0];
  const offline = /stream \S+: offline/.test(r.log);
  if (!r.ready || r.code !== 0 || offline)
    failures.push(`${b.name}: ${r.ready ? (offline ? 'a stream is offline' : `exit ${r.code}`) : 'never ready'}: ${firstLine}\n${b.text.replace(/^/gm, '    | ')}`);
  else console.log(`ok   ini ${b.name} (${r.overrides.slice(2).join(' ')})`);
}

// ---- what the daemon says about a camera (docs/deploy.md, README "No camera") ----
// Before "ready:", one line per stream: a missing camera must not hide behind it.
const missing = '/dev/whepcam-no-such-camera';
const cams = [
  { text: `[stream cam]\nsource = v4l2:${missing}\n`,
    want: `whepcamd: stream cam: offline: source v4l2:${missing} did not start` },
  { text: '[stream cam]\nsource = auto\n',
    want: fs.existsSync('/dev/video0') ? 'whepcamd: stream cam: source v4l2:/dev/video0'
      : 'whepcamd: stream cam: no camera at /dev/video0: streaming a test pattern' },
];
for (const [i, c] of cams.entries()) {
  const r = await runIni({ name: `camera ${i}`, text: c.text, camera: true }, `camera-${i}`);
  const at = r.log.indexOf(c.want), ready = r.log.indexOf('whepcamd: ready:');
  if (!r.ready || r.code !== 0 || at < 0 || at > ready)
    failures.push(`${c.text.trim().replace(/\n/g, ' ')}: wanted "${c.want}" before "ready:"\n${r.log.replace(/^/gm, '    | ')}`);
  else console.log(`ok   ${c.want}`);
}

// ---- curl lines ----
function curlCommands(file, heading = null) {
  let text = read(file);
  if (heading) {
    const at = text.indexOf(heading), end = text.indexOf('\n## ', at + 1);
    assert.ok(at >= 0, `${file} has "${heading}"`);
    text = text.slice(at, end < 0 ? undefined : end);
  }
  const cmds = [];
  for (const b of fenced(file).filter((x) => x.lang === 'sh' && text.includes(x.text))) {
    const lines = b.text.replace(/\\\n\s*/g, ' ').split('\n');
    lines.forEach((l, k) => {
      if (!/^curl\s/.test(l)) return;
      const note = /^#\s*(\d{3})\b/.exec(lines[k + 1] ?? '');
      cmds.push({ file, cmd: l.replace(/\s+#.*$/, ''), want: note ? Number(note[1]) : null });
    });
  }
  return cmds;
}
const curls = [...curlCommands('README.md'), ...curlCommands('docs/deploy.md', '## 6. Checking it')];
assert.ok(curls.filter((c) => c.file === 'README.md').length >= 4, `the README's curl lines were found (${curls.length})`);

const s = await startStack();
let code;
try {
  let session = null;
  for (const c of curls) {
    if (c.cmd.includes('<session>') && session === null) { failures.push(`${c.file}: ${c.cmd}: no session from an earlier POST`); continue; }
    const cmd = c.cmd
      .replace(/(?:https?:\/\/)?(?:127\.0\.0\.1:8080|cam\.local|localhost)(?=\/)/g, s.base)
      .replaceAll('<session>', session)
      .replace(/^curl /, "curl -w '\\n@status=%{http_code}\\n' ");
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd: repo, encoding: 'latin1', timeout: 30000 });
    const status = Number(/@status=(\d+)/.exec(r.stdout)?.[1] ?? NaN);
    const loc = /^Location: \/whep\/[^/]+\/([0-9a-f]+)\r?$/mi.exec(r.stdout);
    if (loc) session = loc[1];
    const piped = c.cmd.includes('|');
    const ok = r.status === 0 && (piped || (c.want !== null ? status === c.want : status >= 200 && status < 300));
    if (!ok) failures.push(`${c.file}: ${c.cmd}: exit ${r.status}, HTTP ${status}${c.want ? ` (the doc says ${c.want})` : ''}\n${(r.stdout + r.stderr).slice(0, 600).replace(/^/gm, '    | ')}`);
    else console.log(`ok   ${c.file}: ${c.cmd.slice(0, 90)}${piped ? '' : ` -> ${status}`}`);
  }
} finally {
  code = await s.stop();
}
assert.equal(code, 0, 'the daemon behind the curl lines exited cleanly');
if (failures.length) {
  console.log(`\n${failures.length} doc example(s) do not work as written:\n${failures.join('\n')}`);
  process.exit(1);
}
console.log(`${inis.length} ini examples and ${curls.length} curl lines work as written`);
process.exit(0);
