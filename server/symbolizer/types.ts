import type { FlameModule, FrameKind } from '../../lib/protocol.ts';

/** A named frame. Names are demangled; kernel names carry no `_[k]` suffix (kind says it). */
export interface Frame {
  name: string;
  /** 'u' user (ELF symbol), 'k' kernel, 'j' JIT (perf map), 'x' synthetic (`[unknown] (binary)`, lost). */
  kind: FrameKind;
  /**
   * The binary the code lies in (user and `[unknown] (binary)` frames: its path in the
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
