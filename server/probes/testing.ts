/**
 * Test helpers for the probes/events tests: compile a C workload from test/workloads with gcc
 * into a fresh temp directory, and read what binutils says about a file (the reference).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const WORKLOADS = resolve(import.meta.dirname, '../../test/workloads');

export interface Compiled {
  path: string;
  dir: string;
  cleanup(): void;
}

/** Compiles `sources` (names under test/workloads) into one executable in a temp dir. */
export function compileWorkload(output: string, sources: string[], flags: string[] = ['-O2', '-g']): Compiled {
  const dir = mkdtempSync(join(tmpdir(), 'pb-workload-'));
  const path = join(dir, output);
  execFileSync('gcc', [...flags, '-o', path, ...sources.map((s) => join(WORKLOADS, s))], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { path, dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ReadelfUsdt {
  provider: string;
  name: string;
  location: bigint;
  base: bigint;
  semaphore: bigint;
  args: string;
}

/** `readelf -n` view of a file's stapsdt notes. */
export function readelfUsdt(path: string): ReadelfUsdt[] {
  const text = execFileSync('readelf', ['-n', path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out: ReadelfUsdt[] = [];
  let cur: Partial<ReadelfUsdt> | null = null;
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^\s+Provider: (\S+)/.exec(line))) cur = { provider: m[1] };
    else if (cur && (m = /^\s+Name: (\S+)/.exec(line))) cur.name = m[1];
    else if (cur && (m = /^\s+Location: (0x[0-9a-f]+), Base: (0x[0-9a-f]+), Semaphore: (0x[0-9a-f]+)/.exec(line))) {
      cur.location = BigInt(m[1]);
      cur.base = BigInt(m[2]);
      cur.semaphore = BigInt(m[3]);
    } else if (cur && (m = /^\s+Arguments:\s?(.*)$/.exec(line))) {
      cur.args = m[1].trim();
      out.push(cur as ReadelfUsdt);
      cur = null;
    }
  }
  return out;
}

/** A deterministic pseudo-random generator for fuzz tests. */
export { seededRandom as prng } from '../../lib/random.ts';

