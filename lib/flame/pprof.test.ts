/**
 * The pprof export read back by an independent decoder: node:zlib gunzip, then protobufjs with
 * a hand-written subset of perftools' profile.proto (not pprof-format, which wrote it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { decodePprof as decode, foldedOfPprof as foldedOf, mappingOfFunctions, mappingsOfPprof } from './pprof-reader.ts';
import { flameTreeToPprof, encodePprof, gzipAsync, gzipStored, crc32 } from './pprof.ts';
import { treeFromFolded, treeToFolded } from './tree.ts';
import type { FlameNode } from '../protocol.ts';

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
  assert.deepEqual(p.function.filter((f) => p.string_table[f.name] === 'all'), [], 'the root is not a function');
});

test('functions and locations are unique per frame; leaf first; kernel frames marked', () => {
  const tree = treeFromFolded(FOLDED);
  const p = decode(flameTreeToPprof(tree));
  const names = p.function.map((f) => p.string_table[f.name]);
  assert.equal(new Set(names).size, names.length, 'one function per frame name');
  assert.equal(p.location.length, p.function.length);
  assert.deepEqual(new Set(p.location.map((l) => l.id)), new Set(p.function.map((f) => f.id)));
  assert.ok(p.location.every((l) => l.mapping_id >= 1 && l.line.length === 1), `every location has a mapping and one line: ${JSON.stringify(p.location)}`);
  // Folded text knows no binaries: pseudo-mappings by kind only.
  const maps = mappingsOfPprof(p);
  assert.deepEqual(maps.map((m) => m.file).sort(), ['[jit]', '[kernel]', '[probeboard]'], `mappings: ${JSON.stringify(maps)}`);
  assert.ok(maps.every((m) => m.hasFunctions), `has_functions everywhere: ${JSON.stringify(maps)}`);
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

test('mappings: one per binary with its file and build-id, [kernel] with the kernel\'s; each function in its binary\'s mapping; time and duration kept', () => {
  const app = { file: '/opt/app/bin/worker', buildId: '2929c380dac8aea2a512831f28a89d5c6e9c7a1e' };
  const libc = { file: '/usr/lib/x86_64-linux-gnu/libc.so.6', buildId: 'aabbccddeeff00112233445566778899aabbccdd' };
  const noId = { file: '/opt/plugin.so' };
  const kernel = { file: '[kernel]', buildId: 'a3e4cd60a8ec14f02aa41b41d5b5846d3d9f1dd8' };
  // Module indexes as a ProfileWindow writes them: node.m into the root's modules.
  const tree: FlameNode = {
    n: 'all', v: 20, modules: [app, libc, kernel, noId],
    c: [{
      n: 'worker-51', v: 20, k: 'p',
      c: [
        { n: 'main', v: 12, k: 'u', m: 0, c: [
          { n: 'malloc', v: 4, k: 'u', m: 1 },
          { n: 'do_syscall_64', v: 3, k: 'k', m: 2 },
          { n: 'plugin_run', v: 2, k: 'u', m: 3 },
        ] },
        { n: 'main', v: 5, k: 'u', m: 1 }, // another binary's `main`: another function
        { n: 'run', v: 3, k: 'j' },
      ],
    }],
  };
  const timeNanos = 1_764_662_400_000 * 1e6;
  const p = decode(flameTreeToPprof(tree, { gzip: (d) => gzipSync(d), periodNs: 1e9 / 99, timeNanos, durationNanos: 4.5e9 }));
  assert.equal(p.time_nanos, timeNanos, `time_nanos ${p.time_nanos}, want ${timeNanos}`);
  assert.equal(p.duration_nanos, 4.5e9, `duration_nanos ${p.duration_nanos}, want 4.5e9`);
  const maps = mappingsOfPprof(p);
  const described = maps.map((m) => `${m.id} ${m.file} ${m.buildId || '-'}`);
  assert.deepEqual(described, [
    '1 [probeboard] -',
    `2 ${app.file} ${app.buildId}`,
    `3 ${libc.file} ${libc.buildId}`,
    `4 [kernel] ${kernel.buildId}`,
    `5 ${noId.file} -`,
    '6 [jit] -',
  ], `mappings read back:\n${described.join('\n')}`);
  const fnMaps = Object.fromEntries(mappingOfFunctions(p));
  assert.deepEqual(fnMaps, {
    'worker-51': ['[probeboard]'],
    main: [app.file, libc.file],
    malloc: [libc.file],
    'do_syscall_64_[k]': ['[kernel]'],
    plugin_run: [noId.file],
    run: ['[jit]'],
  }, `function -> mapping: ${JSON.stringify(fnMaps)}`);
  const fileOf = (name: string) => p.function.filter((f) => p.string_table[f.name] === name).map((f) => p.string_table[f.filename]).sort();
  assert.deepEqual(fileOf('malloc'), [libc.file], `malloc's file: ${JSON.stringify(fileOf('malloc'))}`);
  assert.deepEqual(fileOf('do_syscall_64_[k]'), ['[kernel]'], `kernel function file: ${JSON.stringify(fileOf('do_syscall_64_[k]'))}`);
  assert.equal(foldedOf(p), treeToFolded(tree), `stacks unchanged:\n${foldedOf(p)}`);
});
