/**
 * The pprof export read back by an independent decoder: node:zlib gunzip, then protobufjs with
 * a hand-written subset of perftools' profile.proto (not pprof-format, which wrote it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { flameTreeToPprof, encodePprof, gzipAsync, gzipStored, crc32 } from './pprof.ts';
import { treeFromFolded, treeToFolded } from './tree.ts';
import type { FlameNode } from '../protocol.ts';

const SCHEMA = `
syntax = "proto3";
package perftools.profiles;
message Profile {
  repeated ValueType sample_type = 1;
  repeated Sample sample = 2;
  repeated Mapping mapping = 3;
  repeated Location location = 4;
  repeated Function function = 5;
  repeated string string_table = 6;
  int64 time_nanos = 9;
  int64 duration_nanos = 10;
  ValueType period_type = 11;
  int64 period = 12;
}
message ValueType { int64 type = 1; int64 unit = 2; }
message Sample { repeated uint64 location_id = 1; repeated int64 value = 2; }
message Mapping { uint64 id = 1; int64 filename = 5; bool has_functions = 7; }
message Location { uint64 id = 1; uint64 mapping_id = 2; repeated Line line = 4; }
message Line { uint64 function_id = 1; int64 line = 2; }
message Function { uint64 id = 1; int64 name = 2; int64 system_name = 3; int64 filename = 4; }
`;

const ProfileType = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('perftools.profiles.Profile');

interface Decoded {
  sample_type: { type: number; unit: number }[];
  sample: { location_id: number[]; value: number[] }[];
  mapping: { id: number; filename: number; has_functions: boolean }[];
  location: { id: number; mapping_id: number; line: { function_id: number }[] }[];
  function: { id: number; name: number; system_name: number; filename: number }[];
  string_table: string[];
  time_nanos: number;
  duration_nanos: number;
  period_type?: { type: number; unit: number };
  period: number;
}

function decode(gz: Uint8Array): Decoded {
  const raw = gunzipSync(gz);
  const message = ProfileType.decode(raw);
  return ProfileType.toObject(message, { longs: Number, defaults: true, arrays: true }) as unknown as Decoded;
}

/** Folded text rebuilt from a decoded profile (value index `which`), root first, sorted. */
function foldedOf(p: Decoded, which = 0): string {
  const fnName = new Map(p.function.map((f) => [f.id, p.string_table[f.name]]));
  const locName = new Map(p.location.map((l) => [l.id, l.line.map((line) => fnName.get(line.function_id)!).join('|')]));
  const counts = new Map<string, number>();
  for (const s of p.sample) {
    const key = s.location_id
      .map((id) => locName.get(id)!)
      .reverse()
      .join(';');
    counts.set(key, (counts.get(key) ?? 0) + s.value[which]);
  }
  const lines = [...counts].map(([k, v]) => `${k} ${v}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return lines.length ? lines.join('\n') + '\n' : '';
}

const FOLDED = `app;main;work 30
app;main;idle 10
app;main;work;vfs_read_[k];ksys_read_[k] 5
app;main 2
node;LazyCompile:*fib_[j] 15
swapper/0;[lost stack: fault];cpu_idle_[k] 100
`;

test('round trip: the decoded profile has the tree folded stacks', () => {
  const tree = treeFromFolded(FOLDED);
  const gz = flameTreeToPprof(tree, { gzip: (d) => gzipSync(d) });
  assert.equal(gz[0], 0x1f);
  assert.equal(gz[1], 0x8b);
  const p = decode(gz);
  assert.equal(p.string_table[0], '');
  assert.equal(foldedOf(p), treeToFolded(tree));
  assert.deepEqual(p.sample_type.map((t) => [p.string_table[t.type], p.string_table[t.unit]]), [['samples', 'count']]);
  assert.equal(p.period, 0);
  // The root is not a frame.
  assert.ok(!p.function.some((f) => p.string_table[f.name] === 'all'), '!p.function.some((f) => p.string_table[f.name] === \'all\')');
});

test('functions and locations are unique per frame; leaf first; kernel frames marked', () => {
  const tree = treeFromFolded(FOLDED);
  const p = decode(flameTreeToPprof(tree));
  const names = p.function.map((f) => p.string_table[f.name]);
  assert.equal(new Set(names).size, names.length, 'one function per frame name');
  assert.equal(p.location.length, p.function.length);
  assert.deepEqual(new Set(p.location.map((l) => l.id)), new Set(p.function.map((f) => f.id)));
  assert.ok(p.location.every((l) => l.mapping_id === 1 && l.line.length === 1), 'p.location.every((l) => l.mapping_id === 1 && l.line.length === 1)');
  assert.equal(p.mapping.length, 1);
  assert.equal(p.mapping[0].has_functions, true);
  const byName = (name: string) => p.function.find((f) => p.string_table[f.name] === name)!;
  const kernel = byName('ksys_read_[k]');
  assert.equal(p.string_table[kernel.filename], '[kernel]');
  assert.equal(p.string_table[kernel.system_name], 'ksys_read');
  assert.equal(p.string_table[byName('LazyCompile:*fib').filename], '[jit]');
  assert.equal(p.string_table[byName('main').filename], '');
  // The 5-sample stack: leaf first.
  const deepest = p.sample.find((s) => s.location_id.length === 5)!;
  assert.deepEqual(
    deepest.location_id.map((id) => p.string_table[p.function.find((f) => f.id === id)!.name]),
    ['ksys_read_[k]', 'vfs_read_[k]', 'work', 'main', 'app'],
  );
  assert.deepEqual(deepest.value, [5]);
});

test('period, time and duration', () => {
  const tree = treeFromFolded(FOLDED);
  const periodNs = 1e9 / 99;
  const p = decode(flameTreeToPprof(tree, { periodNs, timeNanos: 1_700_000_000_000_000_000, durationNanos: 10e9 }));
  assert.deepEqual(
    p.sample_type.map((t) => [p.string_table[t.type], p.string_table[t.unit]]),
    [
      ['samples', 'count'],
      ['cpu', 'nanoseconds'],
    ],
  );
  assert.equal(p.period, Math.round(periodNs));
  assert.deepEqual([p.string_table[p.period_type!.type], p.string_table[p.period_type!.unit]], ['cpu', 'nanoseconds']);
  assert.equal(p.time_nanos, 1_700_000_000_000_000_000);
  assert.equal(p.duration_nanos, 10e9);
  for (const s of p.sample) assert.equal(s.value[1], s.value[0] * Math.round(periodNs));
  assert.equal(foldedOf(p), treeToFolded(tree));
  const custom = decode(flameTreeToPprof(tree, { sampleType: { type: 'wall', unit: 'count' } }));
  assert.equal(custom.string_table[custom.sample_type[0].type], 'wall');
});

test('edge cases: empty tree, fractional counts, non-ASCII names', () => {
  const empty = decode(flameTreeToPprof({ n: 'all', v: 0 }));
  assert.equal(empty.sample.length, 0);
  assert.equal(empty.string_table[0], '');
  const tree: FlameNode = { n: 'all', v: 3.4, c: [{ n: 'pröc', v: 3.4, k: 'p', c: [{ n: 'f→g', v: 0.4, k: 'u' }] }] };
  const p = decode(flameTreeToPprof(tree));
  assert.equal(foldedOf(p), 'pröc 3\n', 'self values rounded; a 0.4-sample leaf gives no sample');
});

test('gzip helpers: stored gzip and CompressionStream both gunzip to the protobuf', async () => {
  const tree = treeFromFolded(FOLDED);
  const raw = encodePprof(tree);
  assert.deepEqual(new Uint8Array(gunzipSync(gzipStored(raw))), raw);
  assert.deepEqual(new Uint8Array(gunzipSync(await gzipAsync(raw))), raw);
  const big = new Uint8Array(200_000).map((_, i) => (i * 7) & 0xff);
  assert.deepEqual(new Uint8Array(gunzipSync(gzipStored(big))), big, 'several stored blocks');
  assert.deepEqual(new Uint8Array(gunzipSync(gzipStored(new Uint8Array(0)))), new Uint8Array(0));
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
});
