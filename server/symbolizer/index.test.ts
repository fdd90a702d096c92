import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { debugFilePath, kernelBuildId, Symbolizer, type Frame } from './index.ts';
import { ElfFile } from './elf.ts';
import { setCxxfiltPathForTests } from './demangle.ts';
import { parseProcMaps, type MapEntry } from './proc-maps.ts';
import { buildFixtures, buildRustFixtures, nmFunctions, runProgram, type Running } from './testing.ts';
import { skipOutsideCI } from '../testing/skip.ts';

const running: Running[] = [];
after(async () => {
  for (const r of running) await r.stop().catch(() => {});
});

async function start(path: string): Promise<Running> {
  const r = await runProgram(path);
  running.push(r);
  return r;
}

function mapsOf(pid: number): MapEntry[] {
  return parseProcMaps(readFileSync(`/proc/${pid}/maps`, 'utf8')).entries;
}

/** Load base of a file in a process: start of its mapping at file offset 0. */
function loadBase(pid: number, path: string): bigint {
  const m = mapsOf(pid).find((e) => e.path === path && e.offset === 0n);
  assert.ok(m, `${path} mapped in ${pid}`);
  return m.start;
}

const names = (frames: { name: string }[]) => frames.map((f) => f.name);
/** Frames without their binary (checked on its own where it matters). */
const bare = (frames: Frame[]) => frames.map(({ name, kind }) => ({ name, kind }));

/** The GNU build-id readelf -n prints for a file. */
function readelfBuildId(path: string): string {
  const out = execFileSync('readelf', ['-n', path], { encoding: 'utf8' });
  const id = /Build ID: ([0-9a-f]+)/.exec(out)?.[1];
  assert.ok(id, `readelf -n ${path} shows a build id:\n${out}`);
  return id;
}

test('PIE executable and shared library: names of known functions (nm + load base agrees with the program)', async () => {
  const b = buildFixtures();
  const r = await start(b.pie);
  const [alpha, beta, stat, libFunc] = r.printed;
  const nm = nmFunctions(b.pie);
  const base = loadBase(r.pid, b.pie);
  assert.equal(base + nm.get('pb_alpha')!, alpha, 'nm address + load bias = runtime address');
  const libBase = loadBase(r.pid, b.lib);
  assert.equal(libBase + nmFunctions(b.lib).get('pb_lib_func')!, libFunc);

  const s = new Symbolizer();
  // Leaf first; non-leaf entries are return addresses (addr - 1 is looked up), so pass +1.
  const frames = s.symbolizeUser(r.pid, 'prog-pie', [alpha + 2n, beta + 1n, stat + 1n, libFunc + 1n]);
  // Each frame knows its binary: path as mapped, build-id as readelf reads it.
  const pieModule = { file: b.pie, buildId: readelfBuildId(b.pie) };
  const libModule = { file: b.lib, buildId: readelfBuildId(b.lib) };
  assert.deepEqual(frames.map((f) => f.module), [pieModule, pieModule, pieModule, libModule], `binaries: ${JSON.stringify(frames.map((f) => f.module))}`);
  assert.deepEqual(bare(frames), [
    { name: 'pb_alpha', kind: 'u' },
    { name: 'pb_beta', kind: 'u' },
    { name: 'pb_static', kind: 'u' },
    { name: 'pb_lib_func', kind: 'u' },
  ]);
  // A return address equal to a function's first byte belongs to the code before it.
  const [leaf, ret] = s.symbolizeUser(r.pid, 'prog-pie', [beta, beta]);
  assert.equal(leaf.name, 'pb_beta');
  assert.notEqual(ret.name, 'pb_beta');
  // libc symbol through the same path.
  const libcMap = mapsOf(r.pid).find((e) => /\/libc\.so/.test(e.path) && e.offset === 0n)!;
  const malloc = nmFunctions(libcMap.path, true).get('malloc')!;
  assert.equal(s.symbolizeUser(r.pid, 'prog-pie', [libcMap.start + malloc + 4n])[0].name, 'malloc');
  assert.equal(s.unknownFrames, 0);
});

test('non-PIE executable', async () => {
  const b = buildFixtures();
  const r = await start(b.nopie);
  const [alpha, beta, stat] = r.printed;
  assert.equal(nmFunctions(b.nopie).get('pb_alpha'), alpha, 'ET_EXEC: nm address is the runtime address');
  const s = new Symbolizer();
  assert.deepEqual(names(s.symbolizeUser(r.pid, 'prog-nopie', [alpha, beta + 3n, stat + 3n])), ['pb_alpha', 'pb_beta', 'pb_static']);
});

test('C++: demangled names', async () => {
  const b = buildFixtures();
  const r = await start(b.cxx);
  const [twice, get] = r.printed;
  const s = new Symbolizer();
  assert.deepEqual(bare(s.symbolizeUser(r.pid, 'cxx', [twice + 1n, get + 2n])), [
    { name: 'pbns::twice(int)', kind: 'u' },
    { name: 'pbns::Box<long>::get(long) const', kind: 'u' },
  ]);
});

test('batch: new mangled names are demangled together when the batch ends (the frames returned inside are updated)', async () => {
  const b = buildFixtures();
  const r = await start(b.cxx);
  const [twice, get] = r.printed;
  setCxxfiltPathForTests(undefined); // empties the demangler's cache: these names are new
  const s = new Symbolizer();
  let inside: string[] = [];
  const stacks = s.batch(() => {
    const first = s.symbolizeUser(r.pid, 'cxx', [twice + 1n]);
    const second = s.symbolizeUser(r.pid, 'cxx', [get + 2n, twice + 1n]);
    inside = [...first, ...second].map((f) => f.name);
    return [first, second];
  });
  assert.deepEqual(inside, ['_ZN4pbns5twiceEi', '_ZNK4pbns3BoxIlE3getEl', '_ZN4pbns5twiceEi'], 'not demangled before the batch ends');
  assert.deepEqual(stacks.map((frames) => names(frames)), [['pbns::twice(int)'], ['pbns::Box<long>::get(long) const', 'pbns::twice(int)']]);
  // Known now: a later call names them at once, inside a batch or not.
  assert.deepEqual(names(s.batch(() => s.symbolizeUser(r.pid, 'cxx', [get + 2n]))), ['pbns::Box<long>::get(long) const']);
});

test('deferLookups (one-shot CLI): frames are named by settle(), as an immediate Symbolizer names them, then the partial tables are dropped', async () => {
  const b = buildFixtures();
  const pie = await start(b.pie);
  const cxx = await start(b.cxx);
  const [alpha, beta, stat, libFunc] = pie.printed;
  const libcMap = mapsOf(pie.pid).find((e) => /\/libc\.so/.test(e.path) && e.offset === 0n)!;
  const malloc = libcMap.start + nmFunctions(libcMap.path, true).get('malloc')! + 4n;
  const stacks: [number, bigint[]][] = [
    [pie.pid, [alpha + 2n, beta + 1n, stat + 1n, libFunc + 1n, malloc]],
    [pie.pid, [beta, beta]],
    [cxx.pid, [cxx.printed[0] + 1n, cxx.printed[1] + 2n]],
    [pie.pid, [0n]], // no mapping: unknown in both
  ];
  setCxxfiltPathForTests(undefined); // new names for the demangler
  const immediate = new Symbolizer();
  const expected = stacks.map(([pid, addrs]) => immediate.symbolizeUser(pid, 'x', addrs).map((f) => ({ ...f })));
  const deferred = new Symbolizer({ deferLookups: true });
  const frames = deferred.batch(() => stacks.map(([pid, addrs]) => deferred.symbolizeUser(pid, 'x', addrs)));
  assert.ok(frames.flat().some((f) => f.name === '[pending]'), `not named before settle() (names: ${frames.flat().map((f) => f.name).join(', ')})`);
  assert.ok(deferred.stats().binaries >= 4, `pie, its library, libc, cxx held (${deferred.stats().binaries} binaries)`);
  deferred.settle();
  assert.deepEqual(frames, expected);
  assert.equal(names(frames[2])[0], 'pbns::twice(int)');
  assert.equal(deferred.unknownFrames, immediate.unknownFrames);
  assert.ok(deferred.unknownFrames >= 1, `address 0 is unknown (${deferred.unknownFrames} unknown frames)`);
  assert.equal(deferred.stats().binaries, 0, 'partial tables dropped');
  // Later lookups read the binaries again: still right.
  const again = deferred.symbolizeUser(pie.pid, 'x', [stat + 1n]);
  deferred.settle();
  assert.deepEqual(names(again), ['pb_static']);
});

test('stripped binary: binary+0xFILEOFFSET, kind x, with its module, counted', async () => {
  const b = buildFixtures();
  const r = await start(b.stripped);
  const s = new Symbolizer();
  const [f] = s.symbolizeUser(r.pid, 'prog-stripped', [r.printed[0]]);
  const offset = r.printed[0] - loadBase(r.pid, b.stripped); // PIE: file offset 0 is at the load base
  assert.deepEqual(f, { name: `${basename(b.stripped)}+0x${offset.toString(16)}`, kind: 'x', module: { file: b.stripped, buildId: readelfBuildId(b.stripped) } });
  assert.equal(s.unknownFrames, 1);
  assert.equal(s.stats().unknownFrames, 1);
});

test('exited process: still named from the snapshot taken by notePid; forgotten after the grace period', async () => {
  const b = buildFixtures();
  const r = await runProgram(b.pie);
  let now = 1000;
  const s = new Symbolizer({ now: () => now, exitedGraceMs: 5000 });
  s.notePid(r.pid);
  // Warm the binary cache as a real profile would (a sample seen before the exit).
  s.symbolizeUser(r.pid, 'prog-pie', [r.printed[2]]);
  await r.stop();
  assert.equal(existsSync(`/proc/${r.pid}`), false);
  assert.deepEqual(names(s.symbolizeUser(r.pid, 'prog-pie', [r.printed[0], r.printed[1] + 1n, r.printed[3] + 1n])), [
    'pb_alpha',
    'pb_beta',
    'pb_lib_func',
  ]);
  assert.equal(s.forgetExited(), 0, 'kept during the grace period');
  now += 5000;
  assert.equal(s.forgetExited(), 1);
  assert.equal(s.stats().processes, 0);
  assert.deepEqual(s.symbolizeUser(r.pid, 'prog-pie', [r.printed[0]]), [{ name: '[unknown]', kind: 'x' }]);
});

test('exited process whose binary was never read: read from the path', async () => {
  const b = buildFixtures();
  const r = await runProgram(b.nopie);
  const s = new Symbolizer();
  s.notePid(r.pid);
  await r.stop();
  assert.equal(s.symbolizeUser(r.pid, 'prog-nopie', [r.printed[0]])[0].name, 'pb_alpha');
});

test('deleted binary: named through /proc/PID/map_files while alive; name+0xOFFSET once gone (offset from the mapping)', async () => {
  const b = buildFixtures();
  const copy = join(b.dir, 'prog-deleted');
  copyFileSync(b.pie, copy);
  chmodSync(copy, 0o755);
  const r = await runProgram(copy);
  unlinkSync(copy);
  const s = new Symbolizer();
  s.notePid(r.pid);
  assert.ok(mapsOf(r.pid).some((e) => e.path === copy), `maps shows the path (deleted suffix stripped): ${JSON.stringify(mapsOf(r.pid).map((e) => e.path))}`);
  assert.equal(s.symbolizeUser(r.pid, 'prog', [r.printed[0]])[0].name, 'pb_alpha');
  const s2 = new Symbolizer();
  s2.notePid(r.pid);
  const base = loadBase(r.pid, copy);
  await r.stop();
  // The binary is still known by path (not readable any more: no build-id), and the file offset by the mapping.
  assert.deepEqual(s2.symbolizeUser(r.pid, 'prog', [r.printed[0]]), [{ name: `prog-deleted+0x${(r.printed[0] - base).toString(16)}`, kind: 'x', module: { file: copy } }]);
  assert.equal(s2.stats().binaryErrors, 1);
});

test('unknown pid and unmapped addresses: [unknown], never throws', () => {
  const s = new Symbolizer();
  assert.deepEqual(s.symbolizeUser(0x7ffffff0, 'gone', [0x401000n, 0n]), [
    { name: '[unknown]', kind: 'x' },
    { name: '[unknown]', kind: 'x' },
  ]);
  assert.deepEqual(s.symbolizeUser(process.pid, 'node', [0x10n]), [{ name: '[unknown]', kind: 'x' }]);
  assert.deepEqual(s.symbolizeUser(process.pid, 'node', []), []);
  assert.deepEqual(s.frameFromAddressFailure(new Error('x')), { name: '[unknown]', kind: 'x' });
  assert.equal(s.unknownFrames, 3);
});

test('binary symbol tables are cached per binary, not per process; process snapshots are capped', async () => {
  const b = buildFixtures();
  const r1 = await start(b.pie);
  const r2 = await start(b.pie);
  const s = new Symbolizer({ maxProcesses: 1 });
  s.symbolizeUser(r1.pid, 'p', [r1.printed[0]]);
  const after1 = s.stats().binaries;
  assert.equal(s.symbolizeUser(r2.pid, 'p', [r2.printed[0]])[0].name, 'pb_alpha');
  assert.equal(s.stats().binaries, after1, 'same binary: no new table');
  assert.equal(s.stats().processes, 1, 'LRU cap');
});

test('vDSO frames are named from the vDSO image', async () => {
  const b = buildFixtures();
  const r = await start(b.pie);
  const vdso = mapsOf(r.pid).find((e) => e.path === '[vdso]');
  if (!vdso) return;
  // The vDSO image is the same in every 64-bit process: read our own to find a symbol.
  const own = mapsOf(process.pid).find((e) => e.path === '[vdso]')!;
  const buf = Buffer.alloc(Number(own.end - own.start));
  const fd = openSync('/proc/self/mem', 'r');
  readSync(fd, buf, 0, buf.length, Number(own.start));
  closeSync(fd);
  const elf = ElfFile.fromBuffer(buf, 'vdso');
  const sym = elf.functionSymbols().find((x) => /clock_gettime$/.test(x.name))!;
  const bias = elf.loadSegments()[0].vaddr - BigInt(elf.loadSegments()[0].offset);
  const s = new Symbolizer();
  const [f] = s.symbolizeUser(r.pid, 'prog', [vdso.start + sym.value - bias + 2n]);
  assert.match(f.name, /clock_gettime/);
  assert.equal(f.kind, 'u');
});

test('kernel frames from kallsyms (root): leaf exact, non-leaf addr - 1', (t) => {
  const s = new Symbolizer();
  if (s.kernelSymbolsError()) return skipOutsideCI(t, s.kernelSymbolsError()!);
  const lines = readFileSync('/proc/kallsyms', 'utf8').split('\n');
  const addr = (n: string) => BigInt('0x' + lines.find((l) => l.endsWith(` ${n}`) && / [tT] /.test(l))!.split(' ')[0]);
  const sched = addr('schedule');
  const nano = addr('do_nanosleep');
  const kernelFrames = s.symbolizeKernel([sched, nano + 1n, sched + 1n]);
  const kernelModule = s.kernelModule();
  assert.equal(kernelModule.file, '[kernel]');
  assert.ok(kernelFrames.every((f) => f.module === kernelModule), `kernel frames carry [kernel]: ${JSON.stringify(kernelFrames)}`);
  assert.deepEqual(bare(kernelFrames), [
    { name: 'schedule', kind: 'k' },
    { name: 'do_nanosleep', kind: 'k' },
    { name: 'schedule', kind: 'k' },
  ]);
  // A return address at a symbol's first byte is attributed to the symbol before it.
  assert.notEqual(s.symbolizeKernel([0n, sched])[1].name, 'schedule');
  assert.deepEqual(s.symbolizeKernel([0x10n]), [{ name: '[unknown]', kind: 'x' }]);
});

test('deferLookups: kernel frames named by settle() as an immediate Symbolizer names them (live kallsyms, and a missing one)', (t) => {
  const immediate = new Symbolizer();
  if (immediate.kernelSymbolsError()) return skipOutsideCI(t, immediate.kernelSymbolsError()!);
  const lines = readFileSync('/proc/kallsyms', 'utf8').split('\n').filter((l) => / [tT] /.test(l));
  const stacks: bigint[][] = [];
  for (let i = 0; i < lines.length; i += 997) {
    const a = BigInt('0x' + lines[i].split(' ')[0]);
    stacks.push([a, a + 8n, a + 1n]); // leaf exact; non-leaf: addr - 1
  }
  stacks.push([0x10n, 0n]);
  const expected = stacks.map((addrs) => immediate.symbolizeKernel(addrs).map((f) => ({ ...f })));
  const deferred = new Symbolizer({ deferLookups: true });
  const frames = stacks.map((addrs) => deferred.symbolizeKernel(addrs));
  assert.deepEqual([...new Set(frames.flat().map((f) => f.name))], ['[pending]'], 'not named before settle()');
  deferred.settle();
  assert.deepEqual(frames, expected);
  assert.equal(deferred.unknownFrames, immediate.unknownFrames);

  const missing = new Symbolizer({ deferLookups: true, kallsymsPath: '/nonexistent/kallsyms' });
  const unnamed = missing.symbolizeKernel([0xffffffff81000000n]);
  missing.settle();
  assert.deepEqual(unnamed, [{ name: '[unknown]', kind: 'x' }]);
  assert.match(missing.kernelSymbolsError() ?? '', /ENOENT/);
});

test('kernel frames without kallsyms: [unknown] and a reason', () => {
  const s = new Symbolizer({ kallsymsPath: '/nonexistent/kallsyms' });
  assert.match(s.kernelSymbolsError() ?? '', /ENOENT/);
  assert.deepEqual(s.symbolizeKernel([0xffffffff81000000n]), [{ name: '[unknown]', kind: 'x' }]);
});

test('JIT frames from /tmp/perf-PID.map of a node --perf-basic-prof process', async () => {
  const script = `
    function pbJitHotLoop(n) { let x = 0; for (let i = 0; i < n; i++) x = (x * 31 + i) | 0; return x; }
    for (let k = 0; k < 2000; k++) pbJitHotLoop(10000);
    process.stdout.write('ready ' + process.pid + '\\n');
    process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  // In a temporary directory: node leaves V8 log files in its working directory.
  const child = spawn(process.execPath, ['--perf-basic-prof', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'], cwd: tmpdir() });
  const pid = await new Promise<number>((res, rej) => {
    let text = '';
    child.stdout!.on('data', (d: Buffer) => {
      text += d;
      const m = /ready (\d+)\n/.exec(text);
      if (m) res(Number(m[1]));
    });
    child.on('exit', () => rej(new Error('node exited early')));
  });
  const mapPath = `/tmp/perf-${pid}.map`;
  try {
    const line = readFileSync(mapPath, 'utf8').split('\n').find((l) => l.includes('pbJitHotLoop'));
    assert.ok(line, 'the perf map names the hot function');
    const [start, , ...rest] = line.split(' ');
    const s = new Symbolizer({ recheckMs: 0 });
    const [f] = s.symbolizeUser(pid, 'node', [BigInt('0x' + start) + 1n]);
    assert.equal(f.kind, 'j');
    assert.equal(f.name, rest.join(' '));
  } finally {
    child.stdin!.end();
    await new Promise((r) => child.once('exit', r));
    rmSync(mapPath, { force: true });
  }
});

/** A fake procfs with one process: maps, stat (start time) and status (Uid: ours, NSpid). */
function fakeProc(pid: number, maps: string, startTime: string, nspid?: number): string {
  const root = mkdtempSync(join(tmpdir(), 'pb-proc-'));
  mkdirSync(join(root, String(pid), 'root', 'tmp'), { recursive: true });
  writeFileSync(join(root, String(pid), 'maps'), maps);
  const fields = ['S', ...Array.from({ length: 18 }, (_, i) => String(i)), startTime, '0'];
  writeFileSync(join(root, String(pid), 'stat'), `${pid} (a (weird) name) ${fields.join(' ')}\n`);
  const uid = process.getuid!();
  writeFileSync(join(root, String(pid), 'status'), `Name:\tx\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nNSpid:\t${pid}${nspid ? `\t${nspid}` : ''}\n`);
  return root;
}

test('container: JIT perf map read from /proc/PID/root/tmp/perf-NSPID.map', () => {
  const pid = 4000001;
  const root = fakeProc(pid, '7f0000000000-7f0000100000 rwxp 00000000 00:00 0 \n', '100', 7);
  writeFileSync(join(root, String(pid), 'root', 'tmp', 'perf-7.map'), '7f0000001000 100 JS:*handler /app/server.js:10:3\n');
  const s = new Symbolizer({ procRoot: root, perfMapDir: join(root, 'host-tmp') });
  assert.deepEqual(s.symbolizeUser(pid, 'node', [0x7f0000001010n, 0x7f0000050000n]), [
    { name: 'JS:*handler /app/server.js:10:3', kind: 'j' },
    { name: '[unknown]', kind: 'x' },
  ]);
});

test('pid reuse: a new start time drops the old snapshot; housekeeping runs by itself', () => {
  const pid = 4000002;
  const b = buildFixtures();
  const root = fakeProc(pid, `400000-401000 r-xp 00000000 00:00 0 [vsyscall-like]\nffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n`, '100');
  let now = 0;
  const s = new Symbolizer({ procRoot: root, now: () => now, housekeepingMs: 1000 });
  assert.deepEqual(s.symbolizeUser(pid, 'x', [0xffffffffff600010n]), [{ name: '[vsyscall]', kind: 'x' }]);
  // Same pid, new process, new maps: the pid now runs the PIE fixture's path (not mapped: just a name).
  writeFileSync(join(root, String(pid), 'maps'), `500000-501000 r-xp 00000000 fe:00 99 ${b.stripped}\n`);
  writeFileSync(join(root, String(pid), 'stat'), `${pid} (x) S ${Array.from({ length: 18 }, () => '0').join(' ')} 200 0\n`);
  now = 999;
  assert.equal(s.symbolizeUser(pid, 'x', [0xffffffffff600010n])[0].name, '[vsyscall]', 'before housekeeping: old snapshot');
  now = 1000;
  assert.equal(s.symbolizeUser(pid, 'x', [0x500010n])[0].name, `${basename(b.stripped)}+0x10`, 'housekeeping replaced the snapshot');
});

test('detached debug file by build-id names functions of a stripped binary', async () => {
  const b = buildFixtures();
  const id = ElfFile.open(b.stripped);
  const buildId = id.buildId()!;
  id.close();
  const debugRoot = join(b.dir, 'debugroot');
  const dbg = debugFilePath(buildId, debugRoot);
  mkdirSync(dirname(dbg), { recursive: true });
  execFileSync('objcopy', ['--only-keep-debug', b.pie, dbg]);
  const r = await start(b.stripped);
  const s = new Symbolizer({ debugRoot });
  assert.deepEqual(names(s.symbolizeUser(r.pid, 'p', [r.printed[0], r.printed[2] + 1n])), ['pb_alpha', 'pb_static']);
  const none = new Symbolizer({ debugRoot: null });
  assert.equal(none.symbolizeUser(r.pid, 'p', [r.printed[0]])[0].kind, 'x');
});

test('Rust: legacy (hash stripped) and v0 names, demangled', async (t) => {
  const rust = buildRustFixtures();
  if (!rust) return skipOutsideCI(t, 'rustc not installed (apt-get install rustc)');
  const mangled = (path: string) => [...nmFunctions(path).keys()].find((n) => n.includes('pb_rust_work'))!;
  assert.match(mangled(rust.v0), /^_R/);
  if (!/^_ZN.*17h[0-9a-f]{16}E$/.test(mangled(rust.legacy))) t.diagnostic('rustc no longer mangles the legacy way by default');
  for (const path of [rust.legacy, rust.v0]) {
    const r = await start(path);
    const s = new Symbolizer();
    assert.deepEqual(bare(s.symbolizeUser(r.pid, 'rust', [r.printed[0] + 1n])), [{ name: 'rust::pbmod::pb_rust_work', kind: 'u' }], mangled(path));
  }
});

test('binary cache bounded by bytes: binaries no tracked process maps go first, then the least recently used; the one just read stays', async () => {
  const b = buildFixtures();
  const pie = await start(b.pie);
  const cxx = await runProgram(b.cxx);
  const [alpha, , , libFunc] = pie.printed;
  const twice = cxx.printed[0];
  // Sizes of each binary's index after the same lookups, from an unbounded Symbolizer.
  const unbounded = new Symbolizer();
  unbounded.symbolizeUser(pie.pid, 'p', [alpha]);
  const pieBytes = unbounded.stats().binaryBytes;
  unbounded.symbolizeUser(cxx.pid, 'c', [twice]);
  const cxxBytes = unbounded.stats().binaryBytes - pieBytes;
  unbounded.symbolizeUser(pie.pid, 'p', [libFunc]);
  const libBytes = unbounded.stats().binaryBytes - pieBytes - cxxBytes;
  assert.ok(pieBytes > 0 && cxxBytes > 0 && libBytes > 0, `index sizes ${pieBytes} ${cxxBytes} ${libBytes}`);

  let now = 0;
  const s = new Symbolizer({ now: () => now, exitedGraceMs: 1000, housekeepingMs: 0, maxBinaryBytes: Math.max(pieBytes + cxxBytes, pieBytes + libBytes) });
  assert.equal(s.symbolizeUser(pie.pid, 'p', [alpha])[0].name, 'pb_alpha');
  assert.equal(s.symbolizeUser(cxx.pid, 'c', [twice])[0].name, 'pbns::twice(int)');
  assert.equal(s.stats().binaryBytes, pieBytes + cxxBytes, 'within budget: both kept');
  await cxx.stop();
  s.forgetExited();
  now += 1000;
  assert.equal(s.forgetExited(), 1, 'the C++ process is forgotten');
  // Adding the library goes over budget (all three exceed it): the C++ binary (mapped by no tracked process) goes,
  // although prog-pie was used less recently (plain LRU would have dropped it).
  assert.equal(s.symbolizeUser(pie.pid, 'p', [libFunc])[0].name, 'pb_lib_func');
  assert.equal(s.stats().binaries, 2);
  assert.equal(s.stats().binaryBytes, pieBytes + libBytes);

  // A budget smaller than any binary: only the binary just read is kept; names stay right.
  const tiny = new Symbolizer({ maxBinaryBytes: 1 });
  assert.equal(tiny.symbolizeUser(pie.pid, 'p', [alpha])[0].name, 'pb_alpha');
  assert.equal(tiny.symbolizeUser(pie.pid, 'p', [libFunc])[0].name, 'pb_lib_func');
  assert.equal(tiny.stats().binaries, 1, 'prog-pie dropped though mapped: over budget');
  assert.equal(tiny.stats().binaryBytes, libBytes);
  assert.equal(tiny.symbolizeUser(pie.pid, 'p', [alpha + 1n])[0].name, 'pb_alpha', 'prog-pie read again on a miss');
  assert.equal(tiny.stats().binaries, 1);
});

test('address caches bounded over all processes: the least recently sampled processes are cleared first', async () => {
  const b = buildFixtures();
  const first = await start(b.pie);
  const second = await start(b.pie);
  const s = new Symbolizer({ maxCachedAddresses: 8 });
  const [alpha, beta, stat, libFunc] = first.printed;
  for (const addr of [alpha, alpha + 1n, beta, stat, libFunc]) s.symbolizeUser(first.pid, 'p', [addr]);
  assert.equal(s.stats().cachedAddresses, 5);
  const [alpha2, beta2, stat2, libFunc2] = second.printed;
  for (const addr of [alpha2, beta2, stat2]) s.symbolizeUser(second.pid, 'p', [addr]);
  assert.equal(s.stats().cachedAddresses, 8, 'at the bound: nothing cleared');
  // The ninth: over the bound, the first process (least recently sampled) loses its cache.
  assert.equal(s.symbolizeUser(second.pid, 'p', [libFunc2])[0].name, 'pb_lib_func');
  assert.equal(s.stats().cachedAddresses, 4);
  assert.deepEqual(names(s.symbolizeUser(first.pid, 'p', [alpha])), ['pb_alpha'], 'named again after its cache went');
  for (let i = 0; i < 40; i++) {
    s.symbolizeUser(i % 2 ? first.pid : second.pid, 'p', [alpha + BigInt(i)]);
    assert.ok(s.stats().cachedAddresses <= 8, `${s.stats().cachedAddresses} cached addresses`);
  }
});

test('kernel build-id: read from the kernel notes; none from a file without a GNU note or a missing one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pb-notes-'));
  try {
    // Elf_Nhdr {namesz 4, descsz 20, type 3 (NT_GNU_BUILD_ID)} "GNU\0" + 20 bytes, after another note.
    const other = Buffer.concat([Buffer.from([6, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0]), Buffer.from('Linux\0\0\0'), Buffer.from([1, 2, 3, 4])]);
    const id = Buffer.from('a3e4cd60a8ec14f02aa41b41d5b5846d3d9f1dd8', 'hex');
    const gnu = Buffer.concat([Buffer.from([4, 0, 0, 0, 20, 0, 0, 0, 3, 0, 0, 0]), Buffer.from('GNU\0'), id]);
    writeFileSync(join(dir, 'notes'), Buffer.concat([other, gnu]));
    writeFileSync(join(dir, 'no-gnu'), other);
    assert.equal(kernelBuildId(join(dir, 'notes')), id.toString('hex'));
    assert.equal(kernelBuildId(join(dir, 'no-gnu')), undefined);
    assert.equal(kernelBuildId(join(dir, 'missing')), undefined);
    const s = new Symbolizer({ kernelNotesPath: join(dir, 'notes') });
    assert.deepEqual(s.kernelModule(), { file: '[kernel]', buildId: id.toString('hex') });
    assert.deepEqual(new Symbolizer({ kernelNotesPath: null }).kernelModule(), { file: '[kernel]' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
