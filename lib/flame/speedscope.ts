/**
 * speedscope's file format (https://www.speedscope.app/file-format-schema.json, spec in
 * speedscope's src/lib/file-format-spec.ts): one "sampled" profile built from the folded
 * stacks of a tree — a shared frames table, one sample (frame indices, root first) per
 * distinct stack, its sample count as the weight. The CLI's `--format speedscope`.
 */
import type { FlameNode, FrameKind } from '../protocol.ts';
import { foldedFrame, selfValue, treeFromFolded } from './tree.ts';

export const SPEEDSCOPE_SCHEMA = 'https://www.speedscope.app/file-format-schema.json';

export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
  col?: number;
}

export type SpeedscopeUnit = 'none' | 'nanoseconds' | 'microseconds' | 'milliseconds' | 'seconds' | 'bytes';

export interface SpeedscopeSampledProfile {
  type: 'sampled';
  name: string;
  unit: SpeedscopeUnit;
  startValue: number;
  endValue: number;
  /** Each sample: indices into shared.frames, root first. */
  samples: number[][];
  /** Same length as samples. */
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  version?: string;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeSampledProfile[];
  name?: string;
  activeProfileIndex?: number;
  exporter?: string;
}

export interface SpeedscopeOptions {
  /** Profile (and file) name. Default 'probeboard'. */
  name?: string;
  /** Exporter string, e.g. 'probeboard@0.1.0'. */
  exporter?: string;
  /** Unit of the weights: 'none' (sample counts, default) or 'microseconds' (off-CPU and wall profiles). */
  unit?: 'none' | 'microseconds';
}

/**
 * The speedscope file for a tree. Frame names are the folded spellings (kernel frames end in
 * `_[k]`), so the same function in user and kernel space stays two frames. Weights are sample
 * counts (unit 'none'); startValue 0, endValue the total.
 */
export function toSpeedscope(tree: FlameNode, options: SpeedscopeOptions = {}): SpeedscopeFile {
  const name = options.name ?? 'probeboard';
  const frames: SpeedscopeFrame[] = [];
  const frameIndex = new Map<string, number>();
  const indexOf = (n: string, k: FrameKind | undefined): number => {
    const display = foldedFrame(n, k);
    let index = frameIndex.get(display);
    if (index === undefined) {
      index = frames.length;
      frameIndex.set(display, index);
      frames.push({ name: display });
    }
    return index;
  };
  const samples: number[][] = [];
  const weights: number[] = [];
  const path: number[] = [];
  const walk = (node: FlameNode): void => {
    const self = selfValue(node);
    if (self > 0 && path.length > 0) {
      samples.push(path.slice());
      weights.push(self);
    }
    for (const child of node.c ?? []) {
      path.push(indexOf(child.n, child.k));
      walk(child);
      path.pop();
    }
  };
  walk(tree);
  const total = weights.reduce((a, b) => a + b, 0);
  const file: SpeedscopeFile = {
    $schema: SPEEDSCOPE_SCHEMA,
    version: '0.0.1',
    shared: { frames },
    profiles: [{ type: 'sampled', name, unit: options.unit ?? 'none', startValue: 0, endValue: total, samples, weights }],
    name,
    activeProfileIndex: 0,
  };
  if (options.exporter) file.exporter = options.exporter;
  return file;
}

/** The speedscope file for folded text (`a;b;c 12` lines). */
export function speedscopeFromFolded(folded: string, options: SpeedscopeOptions = {}): SpeedscopeFile {
  return toSpeedscope(treeFromFolded(folded), options);
}
