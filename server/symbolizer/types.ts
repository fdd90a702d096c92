import type { FlameModule, FrameKind } from '../../lib/protocol.ts';

/** A named frame. Names are demangled; kernel names carry no `_[k]` suffix (kind says it). */
export interface Frame {
  name: string;
  /** 'u' user (ELF symbol), 'k' kernel, 'j' JIT (perf map), 'x' synthetic (`binary+0xOFFSET` unnamed code, `[unknown]`, lost). */
  kind: FrameKind;
  /**
   * The binary the code lies in (user and `binary+0xOFFSET` frames: its path in the
   * process's mount namespace and GNU build-id; kernel frames: `[kernel]` and the running
   * kernel's build-id). Omitted when unknown (JIT, synthetic). One object per binary, shared.
   */
  module?: FlameModule;
}

/**
 * Why bpf_get_stackid gave no stack for one half of a sample. Here, beside Frame, because both
 * the collectors (which read the kernel's answer) and the aggregator (which draws the
 * `[lost stack: …]` frame) use it, and neither layer may import the other's types.
 */
export type StackErrorKind = 'collision' | 'fault' | 'other';

/**
 * A sample with names instead of addresses: the symbolizer's output, the aggregator's input.
 * Here, beside Frame, so that collectors (which produce them) and the aggregator (which folds
 * them) both import it forward.
 */
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
