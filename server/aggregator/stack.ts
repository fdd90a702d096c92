/**
 * How one symbolized sample becomes a path in the flame graph, for a given stack mode.
 * Shared by the folded-text export and the profile window so both draw the same picture.
 *
 * Path: comm (kind 'p'; `comm-tid` per thread), then user frames root first, then kernel frames root first — the
 * shape of bcc `profile -f -a`. A half whose stack the kernel could not record is replaced by
 * one synthetic frame `[lost stack: collision|fault|other]` (kind 'x'), so the sample still counts.
 * Off-CPU samples of a wall profile get their leaf re-kinded 'o' (markOffCpu); a waker tail
 * (SymbolizedSample.waker) follows the blocked stack.
 */
import type { StackMode } from '../../lib/protocol.ts';
import type { FramePathEntry } from '../../lib/flame/tree.ts';
import type { SymbolizedSample } from '../symbolizer/types.ts';
import { lostStackName } from '../symbolizer/stack-frames.ts';


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

/** Name of the leaf given to an off-CPU stack that has no frame to mark (both halves empty). */
export const OFFCPU_LEAF = '[off-CPU]';

/**
 * `path` (root first, the comm at 0) with its leaf re-kinded 'o': the mark of off-CPU time in a
 * wall profile. A path of the comm alone gets an `[off-CPU]` leaf. Returns a new array.
 */
export function markOffCpu<T extends { name: string; kind: FramePathEntry['kind'] }>(path: readonly T[], make: (name: string, kind: 'o', like?: T) => T): T[] {
  if (path.length <= 1) return [...path, make(OFFCPU_LEAF, 'o')];
  const leaf = path[path.length - 1];
  return [...path.slice(0, -1), make(leaf.name, 'o', leaf)];
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
  const blocked = sample.offCpu ? markOffCpu(path, (name, kind) => ({ name, kind })) : path;
  if (sample.waker) for (const frame of sample.waker) blocked.push({ name: frame.name, kind: frame.kind });
  return blocked;
}
