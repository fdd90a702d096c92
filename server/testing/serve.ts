/**
 * Waiting for a `probeboard serve` child to be ready, for tests that start the real server: it is
 * ready once it has printed its URL and the line naming the collector and web process pids.
 */
import type { ChildProcess } from 'node:child_process';

export interface ServeReady {
  /** The printed URL's origin, e.g. http://127.0.0.1:7070. */
  url: string;
  collectorPid: number;
  webPid: number;
}

/**
 * Resolves when `child` (spawned with piped stdout and stderr) is ready; rejects with everything
 * it printed when it exits first or is not ready within `timeoutMs`. `output` collects what it
 * prints, also afterwards.
 */
export function waitForServeReady(child: ChildProcess, output: string[], timeoutMs: number): Promise<ServeReady> {
  return new Promise<ServeReady>((resolve, reject) => {
    let url: string | undefined;
    let pids: [number, number] | undefined;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${signal ?? code}) before it was ready:\n${output.join('')}`));
    };
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      reject(new Error(`serve did not start within ${timeoutMs / 1000} s:\n${output.join('')}`));
    }, timeoutMs);
    const check = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (url && pids) return;
      const text = output.join('');
      url ??= /dashboard at (http:\/\/[^/\s]+)\//.exec(text)?.[1];
      const m = /collector process (\d+) keeps the BPF privileges; web process (\d+) runs as/.exec(text);
      if (m) pids = [Number(m[1]), Number(m[2])];
      if (url && pids) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ url, collectorPid: pids[0], webPid: pids[1] });
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', onExit);
  });
}
