/**
 * Folded stacks (Brendan Gregg's format): `comm;user frames…;kernel frames_[k] COUNT`, one line
 * per distinct stack, root first, kernel frames suffixed `_[k]` as bcc `profile -f -a` prints
 * them, lines sorted. The CLI's `--format folded`, and the common currency of the tests.
 */
import type { FlameNode, StackMode, ViewSettings } from '../../lib/protocol.ts';
import { compareStrings, foldedFrame, treeFromFolded, treeToFolded, type FoldedOptions } from '../../lib/flame/tree.ts';
import { isIdle, samplePath } from './stack.ts';
import type { SymbolizedInterval, SymbolizedSample } from '../symbolizer/types.ts';

/** The part of ViewSettings that shapes stacks (the time window does not apply here). */
export type StackView = Pick<ViewSettings, 'stackMode' | 'hideIdle' | 'perThread'>;

export const ALL_STACKS: StackView = { stackMode: 'all', hideIdle: false };

/** Folded text of samples: equal stacks merged, lines sorted, each ending in `\n`. */
export function foldedFromSamples(samples: Iterable<SymbolizedSample>, view: StackView = ALL_STACKS, options: FoldedOptions = {}): string {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    if (view.hideIdle && isIdle(sample)) continue;
    if (!(sample.count > 0)) continue;
    const key = foldedKey(sample, view.stackMode, view.perThread === true, options);
    counts.set(key, (counts.get(key) ?? 0) + sample.count);
  }
  const lines = [...counts].map(([key, count]) => `${key} ${count}`);
  lines.sort(compareStrings);
  return lines.length > 0 ? lines.join('\n') + '\n' : '';
}

/** Folded text of every sample in the intervals. */
export function foldedFromIntervals(intervals: Iterable<SymbolizedInterval>, view: StackView = ALL_STACKS, options: FoldedOptions = {}): string {
  function* all(): Iterable<SymbolizedSample> {
    for (const interval of intervals) yield* interval.samples;
  }
  return foldedFromSamples(all(), view, options);
}

/** Folded text of a tree (its nodes' self samples). */
export function foldedFromTree(tree: FlameNode, options: FoldedOptions = {}): string {
  return treeToFolded(tree, options);
}

/** A tree (root `all`) from folded text; see lib/flame/tree.ts treeFromFolded for the rules. */
export function parseFolded(text: string): FlameNode {
  return treeFromFolded(text);
}

function foldedKey(sample: SymbolizedSample, stackMode: StackMode, perThread: boolean, options: FoldedOptions): string {
  return samplePath(sample, stackMode, perThread)
    .map((frame) => foldedFrame(frame.name, frame.kind, options.annotateJit))
    .join(';');
}
