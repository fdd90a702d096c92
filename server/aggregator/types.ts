import type { Frame, StackErrorKind } from '../symbolizer/types.ts';

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
  /** Samples (cpu profiles) or µs (off-CPU and wall profiles). */
  count: number;
  /** Off-CPU samples: the blocking events (switch-out to switch-in) behind `count`. */
  events?: number;
  /**
   * Wall profiles: this stack is blocked time, not running time. Its leaf is drawn with kind 'o'
   * (folded `_[o]`) in every stack mode (see stack.ts markOffCpu).
   */
  offCpu?: boolean;
  /**
   * Off-CPU profiles with wakers: what follows the blocked stack, as bcc's offwaketime prints
   * it: a `--` frame (kind 'x'), the waker's kernel frames then user frames, leaf first, then
   * the waker's command name (kind 'p'). Drawn after the blocked stack in every stack mode.
   */
  waker?: Frame[];
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
