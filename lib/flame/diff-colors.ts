/**
 * Colours of a differential flame graph (lib/flame/diff.ts): red = the frame grew, blue = it
 * shrank, neutral grey when unchanged. Deterministic, isomorphic.
 *
 * Intensity = sqrt(|after - before| / max(after, before)), in [0, 1]: 1 for a frame that is
 * new (or gone), about 0.3 for a 10% change. The square root keeps small changes visible.
 */

/** Fill of an unchanged frame. */
export const DIFF_NEUTRAL: readonly [number, number, number] = [236, 236, 236];
/** Fill of a frame that is new (full intensity growth). */
export const DIFF_GREW: readonly [number, number, number] = [230, 40, 40];
/** Fill of a frame that vanished (full intensity shrink). */
export const DIFF_SHRANK: readonly [number, number, number] = [40, 90, 230];

/** The intensity of a change from `before` to `after` samples, 0..1 (see the module comment). */
export function diffIntensity(before: number, after: number): number {
  const max = Math.max(Math.abs(before), Math.abs(after));
  if (!(max > 0) || before === after) return 0;
  return Math.sqrt(Math.min(1, Math.abs(after - before) / max));
}

/** [r, g, b] for a frame with `before` and `after` samples. */
export function diffRgb(before: number, after: number): [number, number, number] {
  const i = diffIntensity(before, after);
  const target = after > before ? DIFF_GREW : DIFF_SHRANK;
  return [0, 1, 2].map((c) => Math.round(DIFF_NEUTRAL[c] + (target[c] - DIFF_NEUTRAL[c]) * i)) as [number, number, number];
}

/** CSS colour `rgb(r,g,b)` for a frame with `before` and `after` samples. */
export function diffColor(before: number, after: number): string {
  const [r, g, b] = diffRgb(before, after);
  return `rgb(${r},${g},${b})`;
}
