import type { FrameKind } from '../../lib/protocol.ts';

/** A named frame. Names are demangled; kernel names carry no `_[k]` suffix (kind says it). */
export interface Frame {
  name: string;
  /** 'u' user (ELF symbol), 'k' kernel, 'j' JIT (perf map), 'x' synthetic (`[unknown] (binary)`, lost). */
  kind: FrameKind;
}
