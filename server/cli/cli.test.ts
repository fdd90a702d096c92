/** The command line's contract: --help everywhere, exit code 2 and a one-line reason for bad usage. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

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
