/**
 * Command-line parsing shared by every `probeboard` command.
 * Bad usage raises UsageError: main.ts prints its one-line reason and exits with code 2.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage or bad input: exit code 2 with a one-line reason on stderr. */
export class UsageError extends Error {}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Strict parse: unknown options and missing option values are usage errors. `--help` is always known. */
export function parseCommandLine(argv: string[], options: OptionSpec, maxPositionals: number): Parsed {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0]);
  }
  if (!parsed.values.help && parsed.positionals.length > maxPositionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[maxPositionals])}`);
  }
  return { values: parsed.values as Parsed['values'], positionals: parsed.positionals };
}

/** A whole number within [min, max], or a UsageError naming the option. */
export function intOption(name: string, raw: string | boolean | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`--${name} must be from ${min} to ${max}, got ${value}`);
  return value;
}

/** A positive number of seconds (fractions allowed), or a UsageError naming the option. */
export function secondsOption(name: string, raw: string | boolean | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = typeof raw === 'string' && /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!(value > 0) || value > 86400 * 7) throw new UsageError(`--${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  return value;
}

export function choiceOption<T extends string>(name: string, raw: string | boolean | undefined, choices: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !choices.includes(raw as T)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

export function stringOption(raw: string | boolean | undefined): string | undefined {
  return typeof raw === 'string' ? raw : undefined;
}
