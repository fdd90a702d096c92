/** The command line's contract: --help everywhere, exit code 2 and a one-line reason for bad usage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withTokenHidden } from './serve.ts';
import { tempCheckout } from '../testing/checkout.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function probeboard(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), ...args], { encoding: 'utf8', input, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function assertUsageError(args: string[], reason: RegExp) {
  const { code, stderr } = probeboard(args);
  assert.equal(code, 2, `${args.join(' ')} exits 2 (stderr: ${stderr})`);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr for ${args.join(' ')}: ${stderr}`);
  assert.match(lines[0], reason);
}

test('--help works for the tool and every command', () => {
  const top = probeboard(['--help']);
  assert.equal(top.code, 0);
  for (const command of ['serve', 'profile', 'latency', 'events', 'list', 'doctor', 'export']) {
    assert.match(top.stdout, new RegExp(`^  ${command} `, 'm'));
    const help = probeboard([command, '--help']);
    assert.equal(help.code, 0, `${command} --help: ${help.stderr}`);
    assert.match(help.stdout, new RegExp(`usage: probeboard ${command}`), command);
  }
});

test('bad usage exits 2 with a one-line reason', () => {
  assertUsageError([], /missing COMMAND/);
  assertUsageError(['frobnicate'], /unknown command "frobnicate"/);
  assertUsageError(['profile', '--hz', '0'], /--hz must be from 1 to 10000/);
  assertUsageError(['profile', '--hz', 'fast'], /--hz must be a whole number/);
  assertUsageError(['profile', '--format', 'png'], /--format must be one of folded, svg, json, speedscope/);
  assertUsageError(['profile', '--pid', '1', '--comm', 'x'], /--pid or --comm, not both/);
  assertUsageError(['profile', '--pid', '4194303'], /no process with pid 4194303/);
  assertUsageError(['profile', '--comm', 'a-name-longer-than-15'], /15 bytes/);
  assertUsageError(['profile', '--duration', '-1'], /--duration|argument/);
  assertUsageError(['profile', '--bogus'], /Unknown option '--bogus'/);
  assertUsageError(['serve', '--host', '0.0.0.0', '--no-auth'], /--no-auth is for loopback addresses only/);
  assertUsageError(['serve', '--token', 'short'], /at least 8 characters/);
  assertUsageError(['serve', '--token', 'long-enough-token', '--no-auth'], /--token or --no-auth, not both/);
  assertUsageError(['serve', '--port', '70000'], /--port must be from 0 to 65535/);
  assertUsageError(['export', '--format', 'svg', '--input', '/nonexistent/x.folded'], /cannot read \/nonexistent\/x\.folded/);
  assertUsageError(['export'], /--format is required/);
});

test('export turns folded stacks into svg, json, speedscope and normalized folded', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pb-export-'));
  const input = path.join(dir, 'in.folded');
  writeFileSync(input, 'app;main;work 30\napp;main;idle 10\napp;main;work;vfs_read_[k] 5\n');
  const svg = probeboard(['export', '--input', input, '--format', 'svg', '--title', 'My <graph>']);
  assert.equal(svg.code, 0, svg.stderr);
  assert.match(svg.stdout, /^<\?xml|^<svg/);
  assert.match(svg.stdout, /My &lt;graph&gt;/);
  assert.match(svg.stdout, /work \(35 samples, 77\.78%\)/);
  const json = JSON.parse(probeboard(['export', '--input', input, '--format', 'json']).stdout);
  assert.equal(json.name, 'all');
  assert.equal(json.value, 45);
  const speedscope = JSON.parse(probeboard(['export', '--input', input, '--format', 'speedscope']).stdout);
  assert.match(speedscope.$schema, /speedscope/);
  const out = path.join(dir, 'out.folded');
  assert.equal(probeboard(['export', '--format', 'folded', '--output', out], readFileSync(input, 'utf8')).code, 0);
  assert.equal(readFileSync(out, 'utf8'), 'app;main;idle 10\napp;main;work 30\napp;main;work;vfs_read_[k] 5\n');
  const bad = path.join(dir, 'bad.folded');
  writeFileSync(bad, 'app;main 3\nthis line has no count\n');
  assertUsageError(['export', '--input', bad, '--format', 'svg'], /line 2/);
});

/** Runs a checkout copy's bin; one line on stderr expected when it refuses. */
function runCopy(bin: string, args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, lines: result.stderr.trim().split('\n') };
}

function assertRefused(result: ReturnType<typeof runCopy>, reason: RegExp, what: string) {
  assert.equal(result.code, 2, `${what}: exits 2 (stderr: ${result.stderr})`);
  assert.equal(result.lines.length, 1, `${what}: one line on stderr: ${result.stderr}`);
  assert.match(result.lines[0], reason, what);
  assert.match(result.lines[0], /`npm run build` as .* \(not root\)/, `${what}: names the command that builds it`);
}

test('bin runs only a complete, fresh build: missing or stale dist/ is refused with the command that builds it', (t) => {
  const copy = tempCheckout();
  t.after(copy.cleanup);
  assert.equal(runCopy(copy.bin, ['--help']).code, 0, 'a fresh build runs');

  copy.age(copy.serverSource, 60);
  assertRefused(runCopy(copy.bin, ['--help']), /the build in .*dist is stale \(server\/input\.ts changed since\)/, 'a source newer than the bundle');
  copy.age(copy.serverSource, -3600);
  assert.equal(runCopy(copy.bin, ['--help']).code, 0, 'fresh again');

  rmSync(path.join(copy.root, copy.serverSource));
  assertRefused(runCopy(copy.bin, ['--help']), /stale \(server\/input\.ts is gone since\)/, 'a source that is gone');
  writeFileSync(path.join(copy.root, copy.serverSource), '');
  copy.age(copy.serverSource, -3600);

  const collector = path.join(copy.root, 'dist', 'collector.js');
  const saved = readFileSync(collector);
  rmSync(collector);
  assertRefused(runCopy(copy.bin, ['--help']), /no complete build \(.*collector\.js is missing\)/, 'no collector bundle');
  writeFileSync(collector, saved);

  chmodSync(path.join(copy.root, 'dist', 'cli.js'), 0o664);
  assertRefused(runCopy(copy.bin, ['--help']), /refusing to run .*cli\.js: other users may write it \(mode 664\)/, 'a group-writable bundle');
  chmodSync(path.join(copy.root, 'dist', 'cli.js'), 0o644);
  chmodSync(path.join(copy.root, 'dist'), 0o777);
  assertRefused(runCopy(copy.bin, ['--help']), /refusing to run .*dist: other users may write it \(mode 777\)/, 'a world-writable dist/');
  chmodSync(path.join(copy.root, 'dist'), 0o755);
  symlinkSync(path.join(copy.root, 'dist', 'cli.js'), path.join(copy.root, 'dist', 'elsewhere.js'));
  assertRefused(runCopy(copy.bin, ['--help']), /refusing to run .*elsewhere\.js: it is a symbolic link/, 'a link in dist/');
  rmSync(path.join(copy.root, 'dist', 'elsewhere.js'));
  assert.equal(runCopy(copy.bin, ['--help']).code, 0, 'runs again once repaired');

  rmSync(path.join(copy.root, 'dist'), { recursive: true });
  assertRefused(runCopy(copy.bin, ['--help']), /no build \(.*dist is missing\)/, 'no dist/');
});

test('serve builds nothing: a stale or missing dashboard build is refused with one line, out/ untouched', (t) => {
  const copy = tempCheckout();
  t.after(copy.cleanup);
  const index = path.join(copy.root, 'out', 'index.html');
  const before = statSync(index).mtimeMs;
  copy.age(copy.dashboardSource, 60);
  assertRefused(runCopy(copy.bin, ['serve', '--port', '0']), /dashboard build in .*out is stale \(app\/page\.tsx changed since\).*--no-build/, 'a dashboard source newer than out/');
  copy.age(copy.dashboardSource, -3600);
  copy.age('app', 60);
  assertRefused(runCopy(copy.bin, ['serve', '--port', '0']), /stale \(app changed since\)/, 'a page added to app/');
  assert.equal(statSync(index).mtimeMs, before, 'out/ was not rebuilt');
  assert.equal(existsSync(path.join(copy.root, '.next')), false, 'no next build ran (.next/)');

  rmSync(path.join(copy.root, 'out'), { recursive: true });
  assertRefused(runCopy(copy.bin, ['serve', '--port', '0', '--no-build']), /the dashboard is not built \(no .*out\/index\.html\)/, 'no out/, even with --no-build');
});

test('--token is hidden from the rewritten command line in both spellings', () => {
  assert.deepEqual(withTokenHidden(['--port', '1', '--token', 'secret-123', '--no-build']), ['--port', '1', '--token', '<hidden>', '--no-build']);
  assert.deepEqual(withTokenHidden(['--token=secret-123']), ['--token=<hidden>']);
  assert.deepEqual(withTokenHidden(['--port', '1']), ['--port', '1']);
});

/**
 * The files of dist/ a command loads (an ES module load hook logs every URL) and, among them, the
 * ones that carry the dashboard's packages (esbuild marks each bundled module with a
 * `// node_modules/<package>/…` line).
 */
function dashboardPackagesLoadedBy(args: string[]): { loaded: string[]; heavy: string[] } {
  const log = path.join(mkdtempSync(path.join(tmpdir(), 'pb-loaded-')), 'urls');
  writeFileSync(log, '');
  const hooks = `import { appendFileSync } from 'node:fs';
    export async function load(url, context, next) { appendFileSync(process.env.PB_LOADED_LOG, url + '\\n'); return next(url, context); }`;
  const registerer = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)});`;
  const result = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(registerer)}`, path.join(ROOT, 'bin', 'probeboard.js'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PB_LOADED_LOG: log },
  });
  assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
  const loaded = readFileSync(log, 'utf8').split('\n').filter((url) => url.startsWith('file:') && url.includes('/dist/'));
  const heavy = loaded.filter((url) => /^\/\/ node_modules\/(socket\.io|engine\.io|ws|react|react-dom|next|d3[^/]*)\//m.test(readFileSync(new URL(url), 'utf8')));
  return { loaded, heavy };
}

test('the CLI loads no dashboard package (socket.io, react, next, d3) for --help, profile, latency, events, list', () => {
  for (const args of [['--help'], ['profile', '--help'], ['latency', '--help'], ['events', '--help'], ['list', '--help']]) {
    const { loaded, heavy } = dashboardPackagesLoadedBy(args);
    assert.ok(loaded.some((url) => url.endsWith('/dist/cli.js')), `${args.join(' ')} runs the bundle`);
    assert.deepEqual(heavy, [], `${args.join(' ')} loads none of the dashboard's packages`);
  }
  // The control: serve does load socket.io, and the check sees it.
  assert.notDeepEqual(dashboardPackagesLoadedBy(['serve', '--help']).heavy, [], 'serve --help loads the socket.io chunk');
});
