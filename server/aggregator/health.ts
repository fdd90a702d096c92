/**
 * ProfileHealth arithmetic: how complete the picture is (lost stacks, dropped samples,
 * unknown frames), counted per interval and summed over a window. Pure.
 */
import type { ProfileHealth, StackErrorCounts } from '../../lib/protocol.ts';
import type { SymbolizedInterval } from '../symbolizer/types.ts';

export function emptyStackErrors(): StackErrorCounts {
  return { collision: 0, fault: 0, other: 0 };
}

export function emptyHealth(): ProfileHealth {
  return { userStackErrors: emptyStackErrors(), kernelStackErrors: emptyStackErrors(), droppedSamples: 0, unknownFrames: 0 };
}

/**
 * Health of one interval. Stack errors are counted in samples (a distinct stack seen 5 times
 * with a lost user stack adds 5), over every sample, whatever the view shows.
 */
export function intervalHealth(interval: SymbolizedInterval): ProfileHealth {
  const health = emptyHealth();
  for (const sample of interval.samples) {
    if (sample.userStackError) health.userStackErrors[sample.userStackError] += sample.count;
    if (sample.kernelStackError) health.kernelStackErrors[sample.kernelStackError] += sample.count;
  }
  health.droppedSamples = interval.droppedSamples;
  health.unknownFrames = interval.unknownFrames;
  return health;
}

/** Adds `add` into `into` (sign -1 subtracts) and returns `into`. */
export function addHealth(into: ProfileHealth, add: ProfileHealth, sign: 1 | -1 = 1): ProfileHealth {
  for (const key of ['collision', 'fault', 'other'] as const) {
    into.userStackErrors[key] += sign * add.userStackErrors[key];
    into.kernelStackErrors[key] += sign * add.kernelStackErrors[key];
  }
  into.droppedSamples += sign * add.droppedSamples;
  into.unknownFrames += sign * add.unknownFrames;
  return into;
}

/** The sum of several healths, as a new value. */
export function sumHealth(healths: Iterable<ProfileHealth>): ProfileHealth {
  const total = emptyHealth();
  for (const health of healths) addHealth(total, health);
  return total;
}

/** Samples whose user or kernel stack was lost (a sample losing both counts twice). */
export function lostStacks(health: ProfileHealth): number {
  const e = (c: StackErrorCounts) => c.collision + c.fault + c.other;
  return e(health.userStackErrors) + e(health.kernelStackErrors);
}
