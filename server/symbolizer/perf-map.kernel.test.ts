/**
 * /tmp/perf-PID.map planted by a local user (finding 3 of issue 8): the owner of a process can
 * put anything at its perf map's path. A FIFO there used to hang the root collector in open()
 * forever; a symlink made root read a file of the user's choosing. Now: both are refused within
 * a second and the other frames are still named; a perf map owned by anyone but the process's
 * user is not believed, the same file owned by that user is.
 *
 * Root only (the attacker is the ordinary account pb-audit). Run:
 * node --import tsx --test server/symbolizer/perf-map.kernel.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { kernelTestGate } from '../testing/kernel.ts';
import { attacker, runAs, type LocalUser } from '../testing/unprivileged.ts';
import { vaddrToFileOffset } from '../probes/usdt-notes.ts';
import { ElfFile } from './elf.ts';
import { Symbolizer } from './index.ts';
import { parseProcMaps } from './proc-maps.ts';

/** Where the planted perf maps put their one JIT function: unmapped in `sleep`, so looked up as JIT. */
const JIT_ADDR = 0x10010n;
const PLANTED = '10000 100 JS:planted\n';

/** `sleep` as the attacker: the process whose perf map they control. */
async function attackerProcess(user: LocalUser): Promise<ChildProcess & { pid: number }> {
  const child = spawn('sleep', ['60'], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('sleep did not start');
  // Wait until the exec happened (maps show the sleep binary, not the forked node).
  for (let i = 0; i < 200; i++) {
    try {
      if (/\/sleep$/m.test(readFileSync(`/proc/${child.pid}/maps`, 'utf8'))) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return child as ChildProcess & { pid: number };
}

/** An address inside libc's clock_nanosleep in `pid` (a frame the symbolizer must still name). */
function libcFrame(pid: number): bigint {
  const maps = parseProcMaps(readFileSync(`/proc/${pid}/maps`, 'utf8')).entries;
  const text = maps.find((m) => /\/libc\.so\.6$/.test(m.path) && m.perms.includes('x'));
  assert.ok(text, 'libc is mapped executable');
  const elf = ElfFile.open(text.path);
  try {
    const sym = elf.functionSymbols().find((s) => s.name === 'clock_nanosleep' || s.name.startsWith('clock_nanosleep@'));
    assert.ok(sym, 'libc has clock_nanosleep');
    const off = vaddrToFileOffset(elf, sym.value)!;
    assert.ok(off >= text.offset && off < text.offset + (text.end - text.start), `file offset ${off} in the text mapping (offset ${text.offset}, ${text.end - text.start} bytes)`);
    return text.start + (off - text.offset) + 4n;
  } finally {
    elf.close();
  }
}

async function withAttackerProcess(fn: (user: LocalUser, pid: number, mapPath: string) => Promise<void> | void): Promise<void> {
  const user = attacker();
  const child = await attackerProcess(user);
  const mapPath = `/tmp/perf-${child.pid}.map`;
  try {
    await fn(user, child.pid, mapPath);
  } finally {
    child.kill('SIGKILL');
    rmSync(mapPath, { force: true });
  }
}

test('a FIFO planted at /tmp/perf-PID.map by the process owner is refused within a second; the other frames are named', async (t) => {
  if (!kernelTestGate(t)) return;
  await withAttackerProcess(async (user, pid, mapPath) => {
    const made = runAs(user, 'mkfifo', [mapPath]);
    assert.equal(made.status, 0, `mkfifo as ${user.name}: ${made.stderr}`);
    // Should a blocking open come back, the attacker lets it go after 2 s (so the test fails on time instead of hanging).
    const rescuer = spawn('sh', ['-c', `sleep 2; exec 3>${mapPath}`], { uid: user.uid, gid: user.gid, stdio: 'ignore' });
    try {
      const libc = libcFrame(pid);
      const s = new Symbolizer({ recheckMs: 0 });
      const t0 = performance.now();
      const frames = s.symbolizeUser(pid, 'sleep', [JIT_ADDR, libc, JIT_ADDR + 1n]);
      const ms = performance.now() - t0;
      assert.ok(ms < 1000, `symbolized in ${ms.toFixed(0)} ms`);
      assert.deepEqual(frames[0], { name: '[unknown]', kind: 'x' }, 'the JIT frame is unknown');
      assert.equal(frames[1].kind, 'u', `libc frame: ${JSON.stringify(frames[1])}`);
      assert.match(frames[1].name, /clock_nanosleep/, 'the libc frame is named');
      t.diagnostic(`FIFO refused, ${frames.length} frames in ${ms.toFixed(1)} ms`);
    } finally {
      rescuer.kill('SIGKILL');
    }
  });
});

test('a symlink planted at /tmp/perf-PID.map is not followed, even to a well-formed map the user owns', async (t) => {
  if (!kernelTestGate(t)) return;
  await withAttackerProcess((user, pid, mapPath) => {
    const dir = mkdtempSync('/tmp/pb-perfmap-target-');
    try {
      const target = `${dir}/target.map`;
      writeFileSync(target, PLANTED);
      chownSync(target, user.uid, user.gid);
      const linked = runAs(user, 'ln', ['-s', target, mapPath]);
      assert.equal(linked.status, 0, `ln -s as ${user.name}: ${linked.stderr}`);
      const libc = libcFrame(pid);
      const t0 = performance.now();
      const frames = new Symbolizer({ recheckMs: 0 }).symbolizeUser(pid, 'sleep', [JIT_ADDR, libc]);
      const tookMs = performance.now() - t0;
      assert.ok(tookMs < 1000, `within a second (${tookMs.toFixed(0)} ms)`);
      assert.deepEqual(frames[0], { name: '[unknown]', kind: 'x' }, 'the symlinked map was not read');
      assert.match(frames[1].name, /clock_nanosleep/, 'the libc frame is named');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("a perf map owned by another user is not believed; the process's own user's is", async (t) => {
  if (!kernelTestGate(t)) return;
  await withAttackerProcess((user, pid, mapPath) => {
    writeFileSync(mapPath, PLANTED); // root's file, for the attacker's process
    assert.deepEqual(new Symbolizer({ recheckMs: 0 }).symbolizeUser(pid, 'sleep', [JIT_ADDR]), [{ name: '[unknown]', kind: 'x' }], 'root-owned map refused');
    chownSync(mapPath, user.uid, user.gid);
    assert.deepEqual(new Symbolizer({ recheckMs: 0 }).symbolizeUser(pid, 'sleep', [JIT_ADDR]), [{ name: 'JS:planted', kind: 'j' }], "the process's user's map is read");
  });
});
