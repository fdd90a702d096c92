/**
 * Deterministic frame colours, shared by the standalone SVG and the live d3-flame-graph view.
 * Same (name, kind) -> same colour, in every process and every session.
 *
 * Palettes after flamegraph.pl: user code warm (red..yellow), kernel cool blue, JIT green,
 * process (comm) frames a muted tan, synthetic frames (`[unknown]`, `[lost stack: …]`,
 * `[pruned]`) grey. Search matches are magenta, as in flamegraph.pl and d3-flame-graph.
 */
import type { FrameKind } from '../protocol.ts';

/** Fill of frames that match the search (flamegraph.pl's and d3-flame-graph's magenta). */
export const SEARCH_HIGHLIGHT = 'rgb(230,0,230)';

/** Human names of the kinds, for legends. */
export const KIND_LABELS: Readonly<Record<FrameKind, string>> = {
  u: 'user',
  k: 'kernel',
  j: 'JIT',
  p: 'process',
  x: 'synthetic',
  o: 'off-CPU',
};

/**
 * A hash of the name in [0, 1], weighted towards its first characters (like flamegraph.pl's
 * namehash) so that related symbols get related colours. Module/namespace prefixes before the
 * last `::` or `.` and argument lists are ignored, so overloads share a colour.
 */
export function nameHash(name: string): number {
  let base = name;
  const paren = base.indexOf('(');
  if (paren > 0) base = base.slice(0, paren);
  const sep = Math.max(base.lastIndexOf('::') + 1, base.lastIndexOf('`'));
  if (sep > 0 && sep < base.length - 1) base = base.slice(sep + 1);
  let vector = 0;
  let weight = 1;
  let max = 0;
  for (let i = 0; i < base.length && i < 8; i++) {
    vector += weight * ((base.charCodeAt(i) % 10) / 9);
    max += weight;
    weight *= 0.7;
  }
  return max > 0 ? vector / max : 0;
}

/** A second, independent hash in [0, 1] (FNV-1a), to vary saturation within a palette. */
function fnv(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 0xffffffff;
}

/** [r, g, b] for a frame, 0..255 each. */
export function frameRgb(name: string, kind: FrameKind | undefined): [number, number, number] {
  const v1 = nameHash(name);
  const v2 = fnv(name);
  switch (kind) {
    case 'k': // cool blue, far from the warm user frames (text stays readable in black)
      return [Math.round(110 + 50 * v1), Math.round(160 + 40 * v2), Math.round(215 + 35 * v1)];
    case 'j': // green
      return [Math.round(50 + 60 * v1), Math.round(190 + 55 * v2), Math.round(50 + 60 * v1)];
    case 'p': // muted tan
      return [Math.round(190 + 30 * v1), Math.round(170 + 30 * v1), Math.round(140 + 30 * v2)];
    case 'o': // off-CPU time in a wall profile: deep blue-violet, unlike anything on-CPU (Gregg's hot/cold: cold is blue)
      return [Math.round(60 + 40 * v1), Math.round(70 + 40 * v2), Math.round(200 + 55 * v1)];
    case 'x': // grey
      return [Math.round(170 + 30 * v1), Math.round(170 + 30 * v1), Math.round(170 + 30 * v1)];
    case 'u':
    default: // flamegraph.pl "hot": red..yellow
      return [Math.round(205 + 50 * v2), Math.round(230 * v1), Math.round(55 * v2)];
  }
}

/** CSS colour `rgb(r,g,b)` for a frame. The root (no kind) is drawn like a process frame. */
export function frameColor(name: string, kind: FrameKind | undefined): string {
  const [r, g, b] = frameRgb(name, kind ?? 'p');
  return `rgb(${r},${g},${b})`;
}

/** d3-flame-graph's `libtype` for a kind ('kernel', 'jit'), or undefined. */
export function libtypeOf(kind: FrameKind | undefined): 'kernel' | 'jit' | undefined {
  return kind === 'k' ? 'kernel' : kind === 'j' ? 'jit' : undefined;
}
