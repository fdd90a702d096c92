/**
 * Helpers for kernel tests (`*.kernel.test.ts`).
 *
 * `kernelTestGate(t, needs)`: when not root, or a needed feature is NotSupported, the test is
 * skipped with the reason printed plainly — except in CI (CI=true), where it fails with that
 * reason, so CI can never go green by skipping.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { ensureTracefs, probeFeature, type FeatureName } from '../libbpf/features.ts';

/** Whether the test may run. Skips (or, in CI, fails) with the reason otherwise. */
export function kernelTestGate(t: TestContext, needs: readonly FeatureName[] = []): boolean {
  const reason = missingReason(needs);
  if (reason === null) return true;
  if (process.env.CI === 'true') assert.fail(`kernel test cannot run in CI: ${reason}`);
  process.stderr.write(`SKIPPED "${t.name}": ${reason}\n`);
  t.skip(reason);
  return false;
}

function missingReason(needs: readonly FeatureName[]): string | null {
  if (process.geteuid?.() !== 0) return 'kernel tests need root (run: sudo npm run test:kernel)';
  if (needs.includes('tracepoints')) ensureTracefs();
  for (const feature of ['privileges', ...needs] as FeatureName[]) {
    const result = probeFeature(feature);
    if (!result.available) return result.notSupported.message;
  }
  return null;
}

/** Open fds of this process with what they point at (`anon_inode:bpf-prog`, `[perf_event]`…). */
export function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(name), readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the fd readdir itself used, gone already
    }
  }
  return fds;
}

/** fds in `after` that were not in `before` (or now point elsewhere), as "fd -> target". */
export function newFds(before: Map<number, string>, after: Map<number, string>): string[] {
  return [...after].filter(([fd, target]) => before.get(fd) !== target).map(([fd, target]) => `${fd} -> ${target}`);
}

/** Kernel BPF objects as bpftool sees them (names truncated by the kernel to 15 chars). */
export interface BpfToolEntry {
  id: number;
  name?: string;
  type?: string;
  prog_id?: number;
}

/** `bpftool <kind> show -j` (kind: prog, link, map). */
export function bpftoolShow(kind: 'prog' | 'link' | 'map'): BpfToolEntry[] {
  const out = execFileSync('bpftool', [kind, 'show', '-j'], { encoding: 'utf8' });
  const parsed: unknown = JSON.parse(out.trim() === '' ? '[]' : out);
  return Array.isArray(parsed) ? (parsed as BpfToolEntry[]) : [];
}

/** BPF link and program ids held by a process's fds (from /proc/PID/fdinfo). */
export function bpfIdsOf(pid: number): { links: number[]; progs: number[] } {
  const links = new Set<number>();
  const progs = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const link = /^link_id:\s*(\d+)$/m.exec(info);
    const prog = /^prog_id:\s*(\d+)$/m.exec(info);
    if (link) links.add(Number(link[1]));
    if (prog) progs.add(Number(prog[1]));
  }
  return { links: [...links], progs: [...progs] };
}

/** Perf-event attachments (uprobes) on `file`, any process, as their fd types (`uprobe`, `uretprobe`). */
export function uprobesOn(file: string): string[] {
  const out = execFileSync('bpftool', ['perf', 'show', '-j'], { encoding: 'utf8' });
  const all = JSON.parse(out.trim() === '' ? '[]' : out) as { fd_type: string; filename?: string }[];
  return all.filter((e) => e.filename === file).map((e) => e.fd_type);
}

/** tracefs uprobe_events/kprobe_events lines that mention any of `needles` (libbpf's legacy names carry the pid). */
export function tracefsEntries(needles: string[]): string[] {
  const found: string[] = [];
  for (const file of ['/sys/kernel/tracing/uprobe_events', '/sys/kernel/tracing/kprobe_events']) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) if (line && needles.some((n) => line.includes(n))) found.push(`${file}: ${line}`);
  }
  return found;
}
