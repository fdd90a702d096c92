import type { Frame } from '../symbolizer/types.ts';
import type { StackErrorKind } from '../collectors/types.ts';

/** A sample with names instead of addresses; the aggregator's input. */
export interface SymbolizedSample {
  pid: number;
  /** Thread id; 0 or absent when threads were not counted apart (then only `comm` tells them). */
  tid?: number;
  comm: string;
  /** User frames, root (outermost caller) first. */
  user: Frame[];
  /** Kernel frames, root first. */
  kernel: Frame[];
  userStackError?: StackErrorKind;
  kernelStackError?: StackErrorKind;
  count: number;
}

/** One interval's worth of symbolized samples. */
export interface SymbolizedInterval {
  startMs: number;
  endMs: number;
  samples: SymbolizedSample[];
  droppedSamples: number;
  /** Frames that matched no symbol in this interval. */
  unknownFrames: number;
}
