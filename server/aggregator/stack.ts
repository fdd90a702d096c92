/**
 * How one symbolized sample becomes a path in the flame graph, for a given stack mode.
 * Shared by the folded-text export and the profile window so both draw the same picture.
 *
 * Path: comm (kind 'p'; `comm-tid` per thread), then user frames root first, then kernel frames root first — the
 * shape of bcc `profile -f -a`. A half whose stack the kernel could not record is replaced by
 * one synthetic frame `[lost stack: collision|fault|other]` (kind 'x'), so the sample still counts.
 */
import type { StackMode } from '../../lib/protocol.ts';
import type { FramePathEntry } from '../../lib/flame/tree.ts';
import type { StackErrorKind } from '../collectors/types.ts';
import type { SymbolizedSample } from './types.ts';

/** Name of the frame standing in for a stack the kernel could not record. */
export function lostStackName(kind: StackErrorKind): string {
  return `[lost stack: ${kind}]`;
}

/** Whether a sample belongs to the idle task (pid 0, `swapper/N`). */
export function isIdle(sample: { pid: number }): boolean {
  return sample.pid === 0;
}

/**
 * Name of a sample's root frame in a per-thread view: `comm-tid` (as perf and bcc name
 * threads), or just `comm` when the sample carries no thread id (tid 0: not counted apart,
 * and the idle task, whose `swapper/N` names already differ per CPU).
 */
export function threadName(comm: string, tid: number | undefined): string {
  return tid ? `${comm}-${tid}` : comm;
}

/** The frames below the root for one sample in the given mode (comm, or `comm-tid` per thread, first). */
export function samplePath(sample: SymbolizedSample, stackMode: StackMode, perThread = false): FramePathEntry[] {
  const path: FramePathEntry[] = [{ name: perThread ? threadName(sample.comm, sample.tid) : sample.comm, kind: 'p' }];
  if (stackMode !== 'kernel') {
    if (sample.userStackError) path.push({ name: lostStackName(sample.userStackError), kind: 'x' });
    else for (const frame of sample.user) path.push({ name: frame.name, kind: frame.kind });
  }
  if (stackMode !== 'user') {
    if (sample.kernelStackError) path.push({ name: lostStackName(sample.kernelStackError), kind: 'x' });
    else for (const frame of sample.kernel) path.push({ name: frame.name, kind: frame.kind });
  }
  return path;
}
