/**
 * Compiles a C test workload from test/workloads/ into a temporary directory (once per process).
 * Workloads are built with frame pointers and without sibling-call optimisation so that user
 * stacks walked by bpf_get_stackid are complete and every function stays on the stack.
 */
import { execFileSync } from 'node:child_process';
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
