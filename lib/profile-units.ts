/**
 * Widths of a flame graph in their unit (lib/protocol.ts ProfileUnit): samples for a cpu profile,
 * µs of time for offcpu and wall. Used by the dashboard (hover, status line) and exports (titles).
 * Isomorphic, locale-independent like lib/format.ts.
 */
import { formatCount } from './format.ts';
import type { ProfileType, ProfileUnit } from './protocol.ts';

/** Names of the profile types, as the selector and titles show them. */
export const PROFILE_TYPE_LABELS: Readonly<Record<ProfileType, string>> = {
  cpu: 'CPU',
  offcpu: 'Off-CPU',
  wall: 'Wall (hot/cold)',
};

/** Title of a flame graph file of a profile type (SVG, speedscope). */
export function profileTitle(type: ProfileType | undefined): string {
  return type === 'offcpu' ? 'Off-CPU flame graph' : type === 'wall' ? 'Wall-clock (hot/cold) flame graph' : 'CPU flame graph';
}

/**
 * A time in µs in the largest unit under which it is at least 1: `850 µs`, `12.3 ms`, `4.56 s`
 * (three significant digits from 10 up; whole µs below 1 ms, as the kernel counts whole µs).
 */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us) || us < 0) return '–';
  if (us < 1000) return `${Math.round(us)} µs`;
  const digits = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  if (us < 1_000_000) return `${digits(us / 1000)} ms`;
  return `${digits(us / 1_000_000)} s`;
}

/** A width in its unit: `1,234 samples` or `12.3 ms`. */
export function formatWidth(value: number, unit: ProfileUnit | undefined): string {
  return unit === 'us' ? formatMicros(value) : `${formatCount(value)} samples`;
}

/** The word for what widths count, for labels: `samples` or `time`. */
export function widthLabel(unit: ProfileUnit | undefined): string {
  return unit === 'us' ? 'time' : 'samples';
}
