/**
 * Code objects read from a real /usr/bin/python3.11 process: the script (written to a temp dir)
 * prints, for a few functions, `id(code)` (CPython's id is the object's address), its names,
 * first line, `co_lines()` and the raw `co_linetable`, and a frame's `f_lasti`/`f_lineno`; then
 * it waits on stdin while the test reads it from outside. Skipped, saying so, without python3.11.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { CodeObjectReader, formatPythonFrame, instructionByteOffset, UNKNOWN_PYTHON_FRAME } from './code-objects.ts';
import { decodeLineTable311, lineAt } from './line-table.ts';
import { offsetsFor } from './offsets.ts';
import { detectPython } from './version.ts';
import { skipOutsideCI } from '../testing/skip.ts';

const PYTHON = '/usr/bin/python3.11';

interface Described {
  id: number;
  name: string;
  qualname: string;
  filename: string;
  firstlineno: number;
  /** co_lines(): [start byte, end byte, line or null]. */
  lines: [number, number, number | null][];
  codelen: number;
  linetable: string;
}
interface Report {
  hexversion: number;
  functions: Described[];
  caller: { id: number; lasti: number; lineno: number };
  notCode: number;
}

/**
 * A function long and irregular enough to need the multi-byte forms: a 300-line gap (line delta
 * needs a 2-chunk signed varint), columns past 127 (long form, 2-chunk varints), an expression
 * spanning lines (end-line delta), and a loop (negative deltas on the back edge).
 */
function longFunctionSource(): string {
  const wide = Array.from({ length: 30 }, (_, i) => `n${i % 3 === 0 ? '' : ` * ${i}`}`).join(' + ');
  return [
    'def long_one(n):',
    '    total = 0',
    '    for i in range(n):',
    '        total += i',
    ...Array.from({ length: 300 }, () => ''),
    `    total += ${wide}`,
    '    total += (n +',
    '              n *',
    '              2)',
    '    while total > 10:',
    '        total //= 3',
    '    return total',
  ].join('\n');
}

const SCRIPT = `import sys, json

def short_one(x):
    y = x + 1
    return y * 2

class Box:
    def method(self):
        return [v for v in range(3)]

def naïve_été():
    return 1

def 函数():
    return 2

${longFunctionSource()}

def here():
    f = sys._getframe(1)
    return f.f_lasti, f.f_lineno

def caller():
    a = 1
    lasti, lineno = here()
    return lasti, lineno

def describe(fn):
    c = fn.__code__
    return {"id": id(c), "name": c.co_name, "qualname": c.co_qualname, "filename": c.co_filename,
            "firstlineno": c.co_firstlineno, "lines": [list(t) for t in c.co_lines()],
            "codelen": len(c.co_code), "linetable": c.co_linetable.hex()}

lasti, lineno = caller()
not_code = "a str, not a code object"
print(json.dumps({"hexversion": sys.hexversion,
                  "functions": [describe(f) for f in (short_one, Box.method, naïve_été, 函数, long_one)],
                  "caller": {"id": id(caller.__code__), "lasti": lasti, "lineno": lineno},
                  "notCode": id(not_code)}), flush=True)
sys.stdin.read()
`;

/** The line of every instruction (each 2-byte code unit) per co_lines(); undefined for None. */
function expectedLines(fn: Described): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (let offset = 0; offset < fn.codelen; offset += 2) {
    const range = fn.lines.find(([start, end]) => offset >= start && offset < end);
    out.push(range?.[2] ?? undefined);
  }
  return out;
}

const available = existsSync(PYTHON);
let dir = '';
let child: ChildProcessWithoutNullStreams | undefined;
let report: Report;

before(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 'pb-pycode-'));
  writeFileSync(join(dir, 'workload.py'), SCRIPT);
  child = spawn(PYTHON, [join(dir, 'workload.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => [undefined])])) as [string | undefined];
  if (first === undefined) throw new Error(`workload exited before reporting: ${Buffer.concat(stderr).toString()}`);
  report = JSON.parse(first) as Report;
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.stdin.end(); // the script returns at EOF on stdin
    await once(child, 'exit');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('detects Debian python3.11 from its maps and Py_Version', (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const d = detectPython(child!.pid!);
  assert.equal(d.kind, 'cpython', `detection: ${JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v))}`);
  if (d.kind !== 'cpython') return;
  assert.equal(d.version.hex, report.hexversion, `Py_Version 0x${d.version.hex.toString(16)} vs sys.hexversion 0x${report.hexversion.toString(16)}`);
  assert.deepEqual([d.version.major, d.version.minor, d.version.source], [3, 11, 'Py_Version']);
  assert.ok(d.offsets, 'no offsets for 3.11');
  assert.ok(d.symbols.runtime !== undefined && d.symbols.codeType !== undefined, `symbols: ${String(d.symbols.runtime)} ${String(d.symbols.codeType)}`);
  const self = detectPython(process.pid);
  assert.equal(self.kind, 'not-python', `node detected as ${self.kind}`);
});

test('names, file and first line of code objects read from outside', (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const reader = new CodeObjectReader();
  const pid = child!.pid!;
  const got = report.functions.map((fn) => reader.resolve(pid, BigInt(fn.id), 0));
  const want = report.functions.map((fn) => ({ known: true, name: fn.name, qualname: fn.qualname, filename: fn.filename, firstLineNo: fn.firstlineno, line: expectedLines(fn)[0] }));
  assert.deepEqual(got, want);
  // The kinds of str covered: ASCII, latin-1 (1 byte per char), BMP (2 bytes per char).
  assert.deepEqual(
    got.map((g) => (g.known ? g.qualname : g.reason)),
    ['short_one', 'Box.method', 'naïve_été', '函数', 'long_one'],
  );
  const second = reader.resolve(pid, BigInt(report.functions[0].id), 2);
  assert.equal(formatPythonFrame(second), `short_one (${join(dir, 'workload.py')}:${expectedLines(report.functions[0])[1]})`);
  const stats = reader.stats();
  assert.deepEqual([stats.reads, stats.hits, stats.cached], [5, 1, 5], `stats: ${JSON.stringify(stats)}`);
});

test('line of every instruction offset matches co_lines(), read from the process and decoded from the bytes', (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const reader = new CodeObjectReader();
  for (const fn of report.functions) {
    const want = expectedLines(fn);
    const fromProcess = want.map((_, i) => {
      const r = reader.resolve(child!.pid!, BigInt(fn.id), i * 2);
      return r.known ? r.line : `unknown: ${r.reason}`;
    });
    assert.deepEqual(fromProcess, want, `${fn.qualname}: lines per code unit from the process`);
    const ranges = decodeLineTable311(Buffer.from(fn.linetable, 'hex'), fn.firstlineno, fn.codelen / 2);
    assert.equal(ranges.malformed, false, `${fn.qualname}: decoder stopped early`);
    assert.deepEqual(
      want.map((_, i) => lineAt(ranges, i * 2)),
      want,
      `${fn.qualname}: lines per code unit decoded from co_linetable ${fn.linetable}`,
    );
    assert.equal(lineAt(ranges, fn.codelen), undefined, `${fn.qualname}: an offset past the end has a line`);
  }
  // The long function does exercise the multi-byte forms: a forward jump of 300 lines (a line
  // delta over 31 takes a 2-chunk signed varint) and a backward one (the loop's back edge).
  const long = report.functions.find((f) => f.name === 'long_one')!;
  const lineSeq = long.lines.map(([, , line]) => line).filter((l): l is number => l !== null);
  const deltas = lineSeq.slice(1).map((l, i) => l - lineSeq[i]);
  assert.ok(Math.max(...deltas) > 31 && Math.min(...deltas) < 0, `line deltas of long_one: ${deltas.join(',')}`);
  // ...and its table holds long-form entries (code 14) and varint continuation chunks.
  const table = Buffer.from(long.linetable, 'hex');
  const longForms = table.filter((byte) => (byte & 0x80) !== 0 && ((byte >> 3) & 0xf) === 14).length;
  const continuations = table.filter((byte) => (byte & 0xc0) === 0x40).length;
  assert.ok(longForms > 0 && continuations > 0, `long_one: ${longForms} long-form entries, ${continuations} continuation chunks`);
});

test("a frame's f_lasti gives its f_lineno", (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const reader = new CodeObjectReader();
  const { id, lasti, lineno } = report.caller;
  const offsets = offsetsFor({ major: 3, minor: 11 })!;
  // As the BPF walker will compute it, from prev_instr (= code + co_code_adaptive + f_lasti:
  // 3.11's f_lasti is in bytes, the code-unit index times 2).
  const prevInstr = BigInt(id) + BigInt(offsets.code.codeAdaptive) + BigInt(lasti);
  const frame = reader.resolve(child!.pid!, BigInt(id), instructionByteOffset(BigInt(id), prevInstr, offsets));
  assert.ok(frame.known && frame.qualname === 'caller' && frame.line === lineno, `frame at f_lasti ${lasti}: ${JSON.stringify(frame)}, want caller line ${lineno}`);
});

test('bad pid, a process that is not Python, garbage addresses and a dead process give unknown frames', async (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const reader = new CodeObjectReader();
  const pid = child!.pid!;
  const code = BigInt(report.functions[0].id);
  const cases: [string, number, bigint][] = [
    ['pid 0', 0, code],
    ['pid -1', -1, code],
    ['pid 2^31', 2 ** 31, code],
    ['not python (this node)', process.pid, code],
    ['null address', pid, 0n],
    ['unmapped address', pid, 0xdead_beef_000n],
    ['kernel address', pid, 0xffff_ffff_8100_0000n],
    ['a str, not a code object', pid, BigInt(report.notCode)],
    ['inside a code object', pid, code + 8n],
  ];
  for (const [what, p, address] of cases) {
    const r = reader.resolve(p, address, 0);
    assert.equal(r.known, false, `${what}: ${JSON.stringify(r)}`);
    assert.equal(formatPythonFrame(r), UNKNOWN_PYTHON_FRAME);
  }
  assert.equal(reader.resolve(pid, code, 0).known, true, 'the real code object after the failures');

  // A process that exits: its cache entries are dropped and it resolves to unknown.
  const dying = spawn(PYTHON, ['-c', 'import sys\ndef f(): pass\nprint(id(f.__code__), flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: dying.stdout }), 'line')) as [string];
  const dyingCode = BigInt(line);
  const alive = reader.resolve(dying.pid!, dyingCode, 0);
  assert.ok(alive.known && alive.name === 'f', `while alive: ${JSON.stringify(alive)}`);
  dying.stdin.end();
  await once(dying, 'exit');
  assert.deepEqual(reader.forgetExited(), [dying.pid], 'pids dropped after the exit');
  const dead = reader.resolve(dying.pid!, dyingCode, 0);
  assert.equal(dead.known, false, `after exit: ${JSON.stringify(dead)}`);
});

test('an address reused by another code object is read again, not served from the cache', async (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  // The first code object is freed and a same-sized one created until the allocator hands it
  // the same block (CPython's allocator reuses the last freed block of a size class first).
  const script = [
    'import sys',
    'def f():',
    '    return 1',
    'template = f.__code__',
    'x = template.replace(co_name="first", co_qualname="first")',
    'address = id(x)',
    'print(address, flush=True)',
    'sys.stdin.readline()',
    'del x',
    'keep = []',
    'for attempt in range(1000):',
    '    y = template.replace(co_name="second", co_qualname="second")',
    '    if id(y) == address:',
    '        break',
    '    keep.append(y)',
    'print(id(y), flush=True)',
    'sys.stdin.read()',
  ].join('\n');
  const proc = spawn(PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
    const address = BigInt((await lines.next()).value as string);
    const reader = new CodeObjectReader();
    const before = reader.resolve(proc.pid!, address, 0);
    assert.ok(before.known && before.name === 'first', `before: ${JSON.stringify(before)}`);
    proc.stdin.write('\n');
    const second = BigInt((await lines.next()).value as string);
    assert.equal(second, address, 'the allocator did not reuse the freed block in 1000 tries');
    const after = reader.resolve(proc.pid!, address, 0);
    assert.ok(after.known && after.name === 'second', `after reuse: ${JSON.stringify(after)}`);
    assert.deepEqual([reader.stats().reused, reader.stats().reads], [1, 2], `stats: ${JSON.stringify(reader.stats())}`);
  } finally {
    proc.stdin.end();
    if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'exit');
  }
});

test('a process that execs python is detected again after forgetExited', async (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  // A shell (not Python) that, once told to, execs python3.11: same pid, same start time.
  const python = `import sys\ndef g(): pass\nprint(id(g.__code__), flush=True)\nsys.stdin.read()`;
  const proc = spawn('/bin/sh', ['-c', `read line; exec ${PYTHON} -c '${python}'`], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const reader = new CodeObjectReader();
    const before = reader.resolve(proc.pid!, 0x10000n, 0);
    assert.ok(!before.known && before.reason.includes('not-python'), `before exec: ${JSON.stringify(before)}`);
    assert.deepEqual(reader.forgetExited(), [], 'dropped before the exec');
    proc.stdin.write('go\n');
    const [line] = (await once(createInterface({ input: proc.stdout }), 'line')) as [string];
    assert.deepEqual(reader.forgetExited(), [proc.pid], 'dropped after the exec');
    const after = reader.resolve(proc.pid!, BigInt(line), 0);
    assert.ok(after.known && after.name === 'g', `after exec: ${JSON.stringify(after)}`);
  } finally {
    proc.stdin.end();
    if (proc.exitCode === null && proc.signalCode === null) await once(proc, 'exit');
  }
});

test('the cache is bounded', (t) => {
  if (!available) return skipOutsideCI(t, `${PYTHON} not installed (apt-get install python3)`);
  const reader = new CodeObjectReader({ maxCodeObjects: 2 });
  for (const fn of report.functions) reader.resolve(child!.pid!, BigInt(fn.id), 0);
  const stats = reader.stats();
  assert.deepEqual([stats.cached, stats.reads], [2, report.functions.length], `stats: ${JSON.stringify(stats)}`);
  // The most recent two are kept: resolving the last again is a hit.
  reader.resolve(child!.pid!, BigInt(report.functions.at(-1)!.id), 0);
  assert.equal(reader.stats().hits, 1);
});

test('the line table decoder stops on malformed and truncated input', () => {
  // A code-15 entry (no line), then 0x68, which lacks the entry bit: the first is kept.
  const bad = decodeLineTable311(Uint8Array.from([0x80 | (15 << 3), 0x68, 0x80]), 5, 100);
  assert.deepEqual([Array.from(bad.starts), Array.from(bad.lines), bad.malformed], [[0], [-1], true]);
  // Code 13 (no columns) with a varint that never ends.
  const truncated = decodeLineTable311(Uint8Array.from([0x80 | (13 << 3), 0x40, 0x40]), 5, 100);
  assert.equal(truncated.malformed, true, `ranges: ${Array.from(truncated.lines).join(',')}`);
  // Entries past the bytecode's size are ignored.
  const short = decodeLineTable311(Uint8Array.from([0x80 | (13 << 3) | 7, 0x02, 0x80 | (13 << 3) | 7, 0x02]), 5, 4);
  assert.deepEqual([Array.from(short.lines), short.end], [[6], 4]);
});
