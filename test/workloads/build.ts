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

/** A workload that printed `ready` and waits for a line on stdin before it runs. */
export interface ReadyWorkload {
  child: ChildProcess;
  pid: number;
  /** Lets it run (writes the line it waits for) and returns at once. */
  release(): void;
  /** Lets it run; resolves with everything it printed once it exited with 0 (rejects otherwise). */
  go(): Promise<string>;
}

/**
 * Starts `bin ARGS`, a workload of test/workloads/ that prints `ready` once set up and then waits
 * for a line on stdin, and resolves once it is ready: probes attached before `go()` see every
 * call. Rejects if it fails to start, exits first, or is not ready within `readyTimeoutMs` (ms).
 */
export function startWhenReady(bin: string, args: string[], readyTimeoutMs = 20_000): Promise<ReadyWorkload> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    let ready = false;
    // 'close' (not 'exit'): fires after stdout is drained, so the whole output has been seen.
    const closed = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
    const timer = setTimeout(() => reject(new Error(`${bin} ${args.join(' ')} did not get ready in ${readyTimeoutMs} ms (printed ${JSON.stringify(out)})`)), readyTimeoutMs);
    timer.unref();
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      if (ready) return;
      clearTimeout(timer);
      reject(new Error(`${bin} ${args.join(' ')} exited (${signal ?? code}) before it was ready (printed ${JSON.stringify(out)})`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (ready || !out.includes('ready\n')) return;
      ready = true;
      clearTimeout(timer);
      const release = () => void child.stdin!.write('go\n');
      resolve({
        child,
        pid: child.pid!,
        release,
        go: async () => {
          release();
          const code = await closed;
          if (code !== 0) throw new Error(`${bin} ${args.join(' ')} exited with ${code}; printed: ${out.slice(0, 400)}`);
          return out;
        },
      });
    });
  });
}

/**
 * Starts the latency-sleep workload (`s:CALLS:MICROSECONDS`: pb_sleep_us(MICROSECONDS) in a loop)
 * and resolves once it has printed `ready` and been told to go, so that probes attached before
 * this resolves see every call. The caller kills it (SIGKILL) when done.
 */
export async function startLatencySleeper(sleepUs = 300, calls = 1_000_000, bin = buildWorkload('latency-sleep')): Promise<{ child: ChildProcess; pid: number; bin: string }> {
  const workload = await startWhenReady(bin, [`s:${calls}:${sleepUs}`]);
  workload.release();
  return { child: workload.child, pid: workload.pid, bin };
}
