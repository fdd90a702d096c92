/**
 * Test helpers: symbolized samples and intervals written compactly, folded-text style.
 * `sample('bash', 12, 'main;readline', 'do_syscall_64;ksys_read', 3)` — frames root first.
 * A user frame written `name_[j]` is JIT, `[…]` synthetic; kernel frames are kind 'k'.
 */
import type { FlameModule } from '../../lib/protocol.ts';
import type { Frame } from '../symbolizer/types.ts';
import type { StackErrorKind } from '../symbolizer/types.ts';
import type { SymbolizedInterval, SymbolizedSample } from '../symbolizer/types.ts';

function frames(text: string, kernel: boolean): Frame[] {
  if (text === '') return [];
  return text.split(';').map((name) => {
    if (kernel) return { name, kind: 'k' };
    if (name.endsWith('_[j]')) return { name: name.slice(0, -4), kind: 'j' };
    if (name.startsWith('[')) return { name, kind: 'x' };
    return { name, kind: 'u' };
  });
}

export function sample(
  comm: string,
  pid: number,
  user: string,
  kernel: string,
  count: number,
  errors: { user?: StackErrorKind; kernel?: StackErrorKind; tid?: number; module?: FlameModule; kernelModule?: FlameModule } = {},
): SymbolizedSample {
  const s: SymbolizedSample = { pid, comm, user: frames(user, false), kernel: frames(kernel, true), count };
  if (errors.user) s.userStackError = errors.user;
  if (errors.kernel) s.kernelStackError = errors.kernel;
  if (errors.tid !== undefined) s.tid = errors.tid;
  // `module`: the binary of every user ('u') frame; `kernelModule`: of every kernel frame.
  if (errors.module) for (const f of s.user) if (f.kind === 'u') f.module = errors.module;
  if (errors.kernelModule) for (const f of s.kernel) f.module = errors.kernelModule;
  return s;
}

export function interval(endMs: number, samples: SymbolizedSample[], extra: Partial<SymbolizedInterval> = {}): SymbolizedInterval {
  return { startMs: endMs - 1000, endMs, samples, droppedSamples: 0, unknownFrames: 0, ...extra };
}
