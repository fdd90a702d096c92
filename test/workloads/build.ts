/**
 * Compiles a C test workload from test/workloads/ into a temporary directory (once per process).
 * Workloads are built with frame pointers and without sibling-call optimisation so that user
 * stacks walked by bpf_get_stackid are complete and every function stays on the stack.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const built = new Map<string, string>();
let outDir: string | undefined;

export function buildWorkload(name: string, extraFlags: string[] = []): string {
  const key = `${name} ${extraFlags.join(' ')}`;
  const cached = built.get(key);
  if (cached) return cached;
  outDir ??= mkdtempSync(path.join(tmpdir(), 'pb-workloads-'));
  const output = path.join(outDir, `${name}${built.size}`);
  execFileSync('gcc', ['-O1', '-g', '-fno-omit-frame-pointer', '-mno-omit-leaf-frame-pointer', '-fno-optimize-sibling-calls', '-o', output, path.join(HERE, `${name}.c`), ...extraFlags], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  built.set(key, output);
  return output;
}

/**
 * Starts the latency-sleep workload (`s:CALLS:MICROSECONDS`: pb_sleep_us(MICROSECONDS) in a loop)
 * and resolves once it has printed `ready` and been told to go, so that probes attached before
 * this resolves see every call. The caller kills it (SIGKILL) when done.
 */
export async function startLatencySleeper(sleepUs = 300, calls = 1_000_000, bin = buildWorkload('latency-sleep')): Promise<{ child: ChildProcess; pid: number; bin: string }> {
  const child = spawn(bin, [`s:${calls}:${sleepUs}`], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`${bin} exited (${signal ?? code}) before it was ready`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
  });
  child.stdin!.write('go\n');
  return { child, pid: child.pid!, bin };
}
