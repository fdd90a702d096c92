/**
 * What root runs (issue "Root stays root's", findings 1, 2, 5, 8 and the token in `ps`), each
 * attack reproduced as the audit did it, with an ordinary local account (pb-audit) as the
 * attacker, against the real `probeboard` (bin/probeboard.js -> the built dist/):
 * 1. a tsx cache planted in the temporary directory root uses is never read or touched (the plant
 *    is genuine: tsx run as root, as the old bin/probeboard.js did, executes it);
 * 2. after the drop, the only root process under serve is the collector; SIGUSR1 opens no
 *    inspector in either process (controlled: it does in a plain node process);
 * 3. a serve start builds nothing (out/, .next/, dist/ unchanged); stale or foreign-owned builds
 *    are refused as root with one line;
 * 4. neither process shows the token in /proc/PID/cmdline, whether it came from
 *    PROBEBOARD_TOKEN or from --token;
 * 5. a symlink planted where tsx kept its old cache (the `rm -rf` race) is left alone.
 * Needs root and a build (npm test builds first). The planted "temporary directory" is a fresh
 * sticky, world-writable directory given to the runs as TMPDIR, exactly as /tmp is to sudo npm start.
 * Run: npm run build && node --import tsx --test server/cli/runtime.kernel.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { kernelTestGate } from '../testing/kernel.ts';
import { waitForServeReady } from '../testing/serve.ts';
import { attacker, runAs, type LocalUser } from '../testing/unprivileged.ts';
import { CHECKOUT_ROOT as ROOT, tempCheckout } from '../testing/checkout.ts';

const BIN = path.join(ROOT, 'bin', 'probeboard.js');
const TOKEN = 'runtime-test-token-4711';
/** Timeouts stretch in pb-vm (software emulation). */
const T = (ms: number) => ms * (process.env.PB_VM === '1' ? 5 : 1);
/** tsx's loader, as an absolute URL (the attacker runs it from a directory of its own). */
const TSX = import.meta.resolve('tsx');
/** Node's inspector port, opened by SIGUSR1 unless a JavaScript listener replaces the handler. */
const INSPECTOR_PORT = 9229;

/** Extra environment variables for a run (merged over this process's). */
type Env = Record<string, string | undefined>;

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function scratch(prefix: string, mode = 0o700): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, mode);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A directory like /tmp: root's, world-writable, sticky. */
const stickyTmp = () => scratch('pb-tmp-', 0o1777);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface Served {
  child: ChildProcess;
  port: number;
  webPid: number;
  collectorPid: number;
  output: string[];
  stop(): Promise<void>;
}

/** `probeboard serve` as root from the real checkout; resolves once the URL and both pids are printed. */
async function serve(args: string[], env: Env): Promise<Served> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'serve', '--port', String(port), ...args], {
    cwd: ROOT,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output: string[] = [];
  const { collectorPid, webPid } = await waitForServeReady(child, output, T(60_000));
  cleanups.push(() => {
    try {
      process.kill(collectorPid, 'SIGKILL');
    } catch {
      // gone
    }
  });
  const stop = async () => {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  return { child, port, webPid, collectorPid, output, stop };
}

/** Runs bin/probeboard.js (this checkout's unless given) as root, synchronously. */
function probeboard(args: string[], env: Env = {}, bin = BIN) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', timeout: T(60_000), env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every process whose parent chain leads to `pid` (from /proc/N/stat). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …: comm may contain spaces and parentheses; fields follow the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // exited meanwhile
    }
  }
  const found: number[] = [];
  const frontier = [pid];
  while (frontier.length > 0) {
    const parent = frontier.pop()!;
    for (const [child, ppid] of parentOf) {
      if (ppid === parent) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}

/** Real, effective, saved and filesystem uid of a process. */
function uidsOf(pid: number): number[] {
  const line = /^Uid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '';
  return line.trim().split(/\s+/).map(Number);
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** TCP ports a process listens on (its socket fds matched with /proc/net/tcp and tcp6). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue; // 0A: LISTEN
      if (inodes.has(fields[9])) ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'latin1');

/** mtimes of the build outputs a `next build` or an esbuild run would touch (absent: -1). */
function buildOutputTimes(): Record<string, number> {
  const times: Record<string, number> = {};
  for (const entry of ['out', 'out/index.html', '.next', 'dist', 'dist/cli.js', 'dist/collector.js', 'dist/build-info.json']) {
    const full = path.join(ROOT, entry);
    times[entry] = existsSync(full) ? statSync(full).mtimeMs : -1;
  }
  return times;
}

/** A directory listing with each entry's mtime, to show nothing was added, removed or written. */
function snapshot(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .map((name) => `${name} ${lstatSync(path.join(dir, name)).mtimeMs}`);
}

/**
 * The audit's finding 1, as the attacker does it: run tsx on the checkout's sources as yourself
 * (genuine cache entries, same keys root computes), copy them into `<tmp>/tsx-0` (root's cache
 * directory, created first by the attacker), and make main.ts's entry write `marker` first.
 * Also plants an expired entry and an old-style `<tmp>/tsx` directory, which tsx would delete.
 */
function plantTsxCache(user: LocalUser, tmp: string, marker: string): void {
  const own = mkdtempSync(path.join(tmp, 'attacker-'));
  chownSync(own, user.uid, user.gid);
  const warm = runAs(user, process.execPath, ['--import', TSX, path.join(ROOT, 'server', 'cli', 'main.ts'), '--help'], {
    // In the checkout, as root will be: tsx's cache key covers the tsconfig it finds from there.
    cwd: ROOT,
    env: { ...process.env, TMPDIR: own },
    timeout: T(60_000),
  });
  assert.equal(warm.status, 0, `the attacker runs tsx on the checkout's sources (can pb-audit read ${ROOT}?): ${warm.stderr}`);
  const plant = `
    import fs from 'node:fs';
    import path from 'node:path';
    const [from, tmp, marker] = process.argv.slice(1);
    const cache = path.join(tmp, 'tsx-0');
    fs.mkdirSync(cache, { mode: 0o777 });
    fs.chmodSync(cache, 0o777);
    let planted = 0;
    for (const name of fs.readdirSync(from)) {
      const entry = JSON.parse(fs.readFileSync(path.join(from, name), 'utf8'));
      if (entry.code.includes('probeboard COMMAND')) {
        entry.code = 'import{writeFileSync as __w}from"node:fs";__w(' + JSON.stringify(marker) + ',String(process.getuid()));' + entry.code;
        planted++;
      }
      fs.writeFileSync(path.join(cache, name), JSON.stringify(entry));
    }
    fs.writeFileSync(path.join(cache, '1-0000000000000000000000000000000000000000'), '{"code":""}');
    fs.mkdirSync(path.join(tmp, 'tsx'));
    fs.writeFileSync(path.join(tmp, 'tsx', 'planted'), 'planted by the attacker');
    if (planted !== 1) throw new Error('main.ts entries found: ' + planted);
  `;
  const result = runAs(user, process.execPath, ['--input-type=module', '-e', plant, path.join(own, `tsx-${user.uid}`), tmp, marker], { cwd: own, timeout: T(30_000) });
  assert.equal(result.status, 0, `the attacker plants root's tsx cache: ${result.stderr}`);
}

test('finding 1: a tsx cache planted by a local user is never read, written or cleaned by root', async (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();

  // The control: the plant is genuine. tsx run as root (what the old bin/probeboard.js did)
  // executes the attacker's code before anything else.
  const controlTmp = stickyTmp();
  const controlMarker = path.join(scratch('pb-marker-'), 'ran-as-root');
  plantTsxCache(user, controlTmp, controlMarker);
  const control = spawnSync(process.execPath, ['--import', TSX, path.join(ROOT, 'server', 'cli', 'main.ts'), '--help'], { cwd: ROOT, encoding: 'utf8', timeout: T(60_000), env: { ...process.env, TMPDIR: controlTmp } });
  assert.equal(control.status, 0, control.stderr);
  assert.equal(readFileSync(controlMarker, 'utf8'), '0', 'control: root under tsx ran the planted entry (uid 0)');

  const tmp = stickyTmp();
  const marker = path.join(scratch('pb-marker-'), 'ran-as-root');
  plantTsxCache(user, tmp, marker);
  const before = { cache: snapshot(path.join(tmp, 'tsx-0')), old: snapshot(path.join(tmp, 'tsx')), top: snapshot(tmp) };

  const help = probeboard(['--help'], { TMPDIR: tmp });
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /usage: probeboard COMMAND/);
  const served = await serve([], { TMPDIR: tmp, PROBEBOARD_TOKEN: TOKEN });
  // Give a cache's deferred clean-up (tsx runs it on setImmediate after its first write) time to run.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await served.stop();

  assert.equal(existsSync(marker), false, 'the planted entry for server/cli/main.ts never ran');
  assert.deepEqual(snapshot(path.join(tmp, 'tsx-0')), before.cache, 'the planted cache is untouched: no entry added, expired or rewritten');
  assert.deepEqual(snapshot(path.join(tmp, 'tsx')), before.old, 'the planted old cache directory is not cleaned');
  assert.deepEqual(snapshot(tmp), before.top, 'nothing else was created in the temporary directory');
});

test('finding 5: a symlink planted at <tmp>/tsx leads root to delete nothing', async (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();
  const tmp = stickyTmp();
  const rootOnly = scratch('pb-root-only-');
  writeFileSync(path.join(rootOnly, 'keep'), 'root only');
  const link = runAs(user, 'ln', ['-s', rootOnly, path.join(tmp, 'tsx')]);
  assert.equal(link.status, 0, link.stderr);

  assert.equal(probeboard(['--help'], { TMPDIR: tmp }).code, 0);
  const served = await serve([], { TMPDIR: tmp, PROBEBOARD_TOKEN: TOKEN });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await served.stop();

  assert.equal(readFileSync(path.join(rootOnly, 'keep'), 'utf8'), 'root only', 'the root-only file is still there');
  assert.equal(lstatSync(path.join(tmp, 'tsx')).isSymbolicLink(), true, 'the planted link itself was not removed either');
  assert.equal(readlinkSync(path.join(tmp, 'tsx')), rootOnly);
});

test('findings 2, 8, 9: only the collector stays root, SIGUSR1 opens no inspector, a start builds nothing, ps shows no token', async (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();

  // The control: in a plain node process SIGUSR1 does open the inspector (run as the attacker,
  // so that inspector gives nothing away). Without a JS SIGUSR1 listener, so would ours.
  const plain = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  cleanups.push(() => plain.kill('SIGKILL'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  plain.kill('SIGUSR1');
  let opened: number[] = [];
  for (let waited = 0; waited < T(5000) && !opened.includes(INSPECTOR_PORT); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    opened = listeningPorts(plain.pid!);
  }
  plain.kill('SIGKILL');
  assert.deepEqual(opened, [INSPECTOR_PORT], 'control: SIGUSR1 opens the inspector on 9229 in a plain node process');

  const built = buildOutputTimes();
  const served = await serve([], { PROBEBOARD_TOKEN: TOKEN });

  // Finding 2: no root child other than the collector (no esbuild service, no build) after the drop.
  const web = served.webPid;
  assert.notEqual(uidsOf(web)[0], 0, 'the web process dropped root');
  const tree = descendants(web);
  const rootOnes = tree.filter((pid) => uidsOf(pid).includes(0));
  assert.deepEqual(rootOnes, [served.collectorPid], `the collector is the only root process under the web process (children: ${tree.map((pid) => `${pid} ${cmdlineOf(pid).replaceAll('\0', ' ')}`).join('; ')})`);
  assert.deepEqual(uidsOf(served.collectorPid).slice(0, 2), [0, 0], 'the collector runs as root');

  // SIGUSR1 opens nothing: sent by a process of the web process's uid (any process of the sudo
  // user or of nobody may signal the web process, and the collector, whose saved uid is that
  // user's: lifeline.ts), and by root.
  const webUser: LocalUser = { name: 'web', uid: uidsOf(web)[0], gid: Number(/^Gid:\s*(\d+)/m.exec(readFileSync(`/proc/${web}/status`, 'utf8'))![1]) };
  for (const pid of [web, served.collectorPid]) {
    const sent = runAs(webUser, 'kill', ['-USR1', String(pid)]);
    if (pid === web) assert.equal(sent.status, 0, `the web user may signal the web process: ${sent.stderr}`);
    process.kill(pid, 'SIGUSR1');
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(alive(web) && alive(served.collectorPid), true, 'both processes still run after SIGUSR1');
  assert.deepEqual(listeningPorts(web), [served.port], 'the web process listens on its own port only (no inspector)');
  assert.deepEqual(listeningPorts(served.collectorPid), [], 'the collector listens on nothing (no inspector)');
  const page = await fetch(`http://127.0.0.1:${served.port}/?token=${TOKEN}`);
  assert.equal(page.status, 200, 'the web process still serves the dashboard');

  // Finding 9: the token (from PROBEBOARD_TOKEN) is in neither command line.
  for (const pid of [web, served.collectorPid]) assert.equal(cmdlineOf(pid).includes(TOKEN), false, `no token in /proc/${pid}/cmdline`);
  // …and the environment it came in is not readable by other processes of the web user (the drop
  // made the web process non-dumpable; the collector's real uid is root).
  for (const pid of [web, served.collectorPid]) {
    const read = runAs(webUser, 'cat', [`/proc/${pid}/environ`]);
    assert.notEqual(read.status, 0, `a process of uid ${webUser.uid} cannot read /proc/${pid}/environ`);
    assert.equal(read.stdout.includes(TOKEN), false);
  }
  assert.match(cmdlineOf(served.collectorPid), /dist\/collector\.js/, 'the collector runs the bundle');
  assert.equal(/tsx/.test(cmdlineOf(served.collectorPid)), false, 'the collector runs without tsx');

  await served.stop();
  // Finding 8: the start built nothing, as root or otherwise.
  assert.deepEqual(buildOutputTimes(), built, 'out/, .next/ and dist/ are as the build left them');

  // --token on the command line: hidden once serve has parsed it.
  const flagged = await serve(['--token', TOKEN], {});
  const cmdline = cmdlineOf(flagged.webPid);
  assert.equal(cmdline.includes(TOKEN), false, `the web process's command line hides --token: ${JSON.stringify(cmdline)}`);
  assert.match(cmdline, /serve --port \d+ --token <hidden>/);
  assert.equal(cmdlineOf(flagged.collectorPid).includes(TOKEN), false, 'nor does the collector carry it');
  const refused = await fetch(`http://127.0.0.1:${flagged.port}/`);
  const admitted = await fetch(`http://127.0.0.1:${flagged.port}/?token=${TOKEN}`);
  assert.deepEqual([refused.status, admitted.status], [401, 200], 'the hidden token is still the one required');
  await flagged.stop();
});

test('finding 8: as root, a stale, incomplete or foreign-owned build is refused with one line; nothing is built', (t) => {
  if (!kernelTestGate(t)) return;
  const user = attacker();
  const copy = tempCheckout();
  t.after(copy.cleanup);
  const bin = copy.bin;
  const oneLine = (result: { code: number | null; stderr: string }, reason: RegExp, what: string) => {
    assert.equal(result.code, 2, `${what}: exit 2 (stderr: ${result.stderr})`);
    assert.equal(result.stderr.trim().split('\n').length, 1, `${what}: one line: ${result.stderr}`);
    assert.match(result.stderr, reason, what);
    assert.match(result.stderr, /run `npm run build` as .* \(not root\)/, `${what}: names the command`);
  };
  assert.equal(probeboard(['--help'], {}, bin).code, 0, 'the copy runs');

  // A stale dashboard: refused before anything runs as root; out/ untouched, no .next/.
  const index = path.join(copy.root, 'out', 'index.html');
  const indexMs = statSync(index).mtimeMs;
  copy.age(copy.dashboardSource, 60);
  oneLine(probeboard(['serve', '--port', '0'], { PROBEBOARD_TOKEN: TOKEN }, bin), /dashboard build .* is stale \(app\/page\.tsx changed since\)/, 'stale out/');
  assert.equal(statSync(index).mtimeMs, indexMs, 'out/ was not rebuilt');
  assert.equal(existsSync(path.join(copy.root, '.next')), false, 'next build did not run');
  copy.age(copy.dashboardSource, -3600);

  // A stale bundle.
  copy.age(copy.serverSource, 60);
  oneLine(probeboard(['--help'], {}, bin), /stale \(server\/input\.ts changed since\)/, 'stale dist/');
  copy.age(copy.serverSource, -3600);

  // Written by someone else: the invoking user (SUDO_UID) may own the build; nobody else may.
  const cli = path.join(copy.root, 'dist', 'cli.js');
  chownSync(cli, user.uid, user.gid);
  oneLine(probeboard(['--help'], { SUDO_UID: '' }, bin), new RegExp(`refusing to run .*cli\\.js: it belongs to uid ${user.uid}, neither root nor the invoking user \\(uid 0\\)`), 'a bundle of another user');
  assert.equal(probeboard(['--help'], { SUDO_UID: String(user.uid), SUDO_USER: user.name }, bin).code, 0, 'the sudo user may own the build');
  oneLine(probeboard(['--help'], { SUDO_UID: '65533' }, bin), /belongs to uid \d+, neither root nor the invoking user \(uid 65533\)/, 'not when another user ran sudo');
  chownSync(cli, 0, 0);
  chownSync(path.join(copy.root, 'dist'), user.uid, user.gid);
  oneLine(probeboard(['--help'], { SUDO_UID: '' }, bin), /refusing to run .*dist: it belongs to uid/, 'a dist/ of another user');
  chownSync(path.join(copy.root, 'dist'), 0, 0);
  mkdirSync(path.join(copy.root, 'dist', 'extra.js'));
  chownSync(path.join(copy.root, 'dist', 'extra.js'), user.uid, user.gid);
  oneLine(probeboard(['--help'], { SUDO_UID: '' }, bin), /refusing to run .*extra\.js: it belongs to uid/, 'anything in dist/ another user owns');
});
