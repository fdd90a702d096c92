/** `probeboard export`: pprof output and --diff, run as the real command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { Profile } from 'pprof-format';
import { checkXml } from '../../lib/flame/xml-check.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

function probeboard(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'probeboard.js'), ...args], { input, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

function assertUsageError(args: string[], reason: RegExp) {
  const { code, stderr } = probeboard(args);
  assert.equal(code, 2, `${args.join(' ')} exits 2 (stderr: ${stderr})`);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr for ${args.join(' ')}: ${stderr}`);
  assert.match(lines[0], reason);
}

const dir = mkdtempSync(path.join(tmpdir(), 'pb-export-'));
const BEFORE = path.join(dir, 'before.folded');
const AFTER = path.join(dir, 'after.folded');
writeFileSync(BEFORE, 'app;main;a 10\napp;main;b 20\napp;old 5\n');
writeFileSync(AFTER, 'app;main;a 30\napp;main;b 10\napp;main;c 5\napp 2\n');

/** Folded text of a decoded pprof profile's first value. */
function foldedOfPprof(gz: Uint8Array): { folded: string; profile: Profile } {
  const profile = Profile.decode(gunzipSync(gz));
  const strings = profile.stringTable.strings;
  const fn = new Map(profile.function.map((f) => [Number(f.id), strings[Number(f.name)]]));
  const loc = new Map(profile.location.map((l) => [Number(l.id), fn.get(Number(l.line[0].functionId))!]));
  const lines = profile.sample.map((s) => `${s.locationId.map((id) => loc.get(Number(id))).reverse().join(';')} ${Number(s.value[0])}`);
  return { folded: lines.sort().join('\n') + '\n', profile };
}

test('--format pprof writes a gzipped profile to --output or a pipe', () => {
  const out = path.join(dir, 'out.pb.gz');
  const run = probeboard(['export', '--input', AFTER, '--format', 'pprof', '--output', out, '--hz', '99']);
  assert.equal(run.code, 0, run.stderr);
  const file = readFileSync(out);
  assert.deepEqual([file[0], file[1]], [0x1f, 0x8b]);
  const { folded, profile } = foldedOfPprof(file);
  assert.equal(folded, 'app 2\napp;main;a 30\napp;main;b 10\napp;main;c 5\n');
  assert.equal(Number(profile.period), Math.round(1e9 / 99));
  assert.equal(profile.sampleType.length, 2);

  const piped = probeboard(['export', '--format', 'pprof'], readFileSync(BEFORE, 'utf8'));
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(foldedOfPprof(piped.stdout).folded, 'app;main;a 10\napp;main;b 20\napp;old 5\n');
  assert.equal(foldedOfPprof(piped.stdout).profile.sampleType.length, 1, 'no --hz: samples only');
});

test('--diff writes a differential flame graph SVG, or two-column folded text', () => {
  const svg = probeboard(['export', '--diff', BEFORE, AFTER, '--title', 'A vs B']);
  assert.equal(svg.code, 0, svg.stderr);
  const text = svg.stdout.toString();
  assert.equal(checkXml(text), null);
  assert.match(text, /A vs B/, 'the title');
  assert.ok(text.includes('<title>a (30 samples, 63.83%; before 10; +20, +200.00%)</title>'), `the tooltip of a; titles drawn: ${JSON.stringify(text.match(/<title>[^<]*<\/title>/g)?.slice(0, 8))}`);
  assert.match(text, /only before \(not drawn\): 5/);
  assert.match(text, /<script/);
  const normalized = probeboard(['export', '--diff', BEFORE, AFTER, '--normalize', '--static']).stdout.toString();
  assert.match(normalized, /scaled ×1\.343/);
  assert.doesNotMatch(normalized, /<script/);
  const out = path.join(dir, 'diff.folded');
  assert.equal(probeboard(['export', '--diff', BEFORE, AFTER, '--format', 'folded', '-o', out]).code, 0);
  assert.equal(readFileSync(out, 'utf8'), 'app 0 2\napp;main;a 10 30\napp;main;b 20 10\napp;main;c 0 5\napp;old 5 0\n');
});

test('svg is interactive unless --static', () => {
  const interactive = probeboard(['export', '--input', AFTER, '--format', 'svg']).stdout.toString();
  assert.match(interactive, /<script/);
  assert.equal(checkXml(interactive), null);
  assert.doesNotMatch(probeboard(['export', '--input', AFTER, '--format', 'svg', '--static']).stdout.toString(), /<script/);
});

test('bad usage of pprof and --diff exits 2 with a one-line reason', () => {
  assertUsageError(['export', '--diff', BEFORE], /--diff needs two profiles/);
  assertUsageError(['export', '--diff', BEFORE, AFTER, '--format', 'pprof'], /--format must be one of svg, folded/);
  assertUsageError(['export', '--diff', BEFORE, AFTER, '--input', AFTER], /--input or --diff, not both/);
  assertUsageError(['export', '--diff', BEFORE, '/nonexistent/after.folded'], /cannot read \/nonexistent\/after\.folded/);
  assertUsageError(['export', '--input', AFTER, '--format', 'svg', '--normalize'], /--normalize is for --diff/);
  assertUsageError(['export', '--format', 'svg', BEFORE], /unexpected argument/);
  assertUsageError(['export', '--input', AFTER, '--format', 'svg', '--hz', '99'], /--hz is for --format pprof/);
  assertUsageError(['export', '--input', AFTER, '--format', 'pprof', '--hz', 'fast'], /--hz must be a whole number/);
  assertUsageError(['export', '--input', AFTER, '--format', 'png'], /--format must be one of svg, json, speedscope, folded, pprof/);
  const help = probeboard(['export', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout.toString(), /--diff BEFORE AFTER/);
  assert.match(help.stdout.toString(), /pprof/);
});
