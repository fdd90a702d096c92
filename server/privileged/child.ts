/**
 * The process CollectorBackend: forks the collector process (main.ts) with a private IPC channel
 * (`serialization: 'advanced'`) and talks to it through the shared CollectorClient.
 *
 * Started by the root web process before it drops its privileges (drop.ts), so the collector
 * keeps root and the web process keeps nothing. If the collector dies, the backend goes `down`
 * with a reason naming how it exited; every handle reports it and later requests fail with it.
 * close() disconnects the channel (the collector closes everything and exits) and waits for the
 * exit (SIGKILL after `killAfterMs`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CollectorClient, type CollectorBackend, type CollectorTransport } from './backend.ts';
import type { CollectorOutput, CollectorRequest } from './protocol.ts';
import { BUNDLED } from '../bundled.ts';

/**
 * What the collector process runs. Bundled (what users run): dist/collector.js, plain JavaScript,
 * with no loader (root must not run tsx: issue "Root stays root's", findings 1, 2 and 5). From the
 * sources (tests run TypeScript directly): main.ts under the tsx loader.
 * Its argv never carries a secret (/proc/PID/cmdline is readable by every local user).
 */
const COLLECTOR_ENTRY = BUNDLED ? fileURLToPath(new URL('../../dist/collector.js', import.meta.url)) : fileURLToPath(new URL('./main.ts', import.meta.url));
const collectorExecArgv = (): string[] => (BUNDLED ? ['--max-semi-space-size=4'] : ['--import', import.meta.resolve('tsx'), '--max-semi-space-size=4']);

export class CollectorStartError extends Error {}

export interface CollectorProcessOptions {
  /** How long to wait for the collector's `ready` (default 30 s: first loads compile TypeScript). */
  readyTimeoutMs?: number;
  /** How long close() waits for the collector to exit before SIGKILL (default 5 s). */
  killAfterMs?: number;
}

/** How a collector exit is told to the user (profile status, ended probes, refused requests). */
export function collectorGoneReason(code: number | null, signal: NodeJS.Signals | null): string {
  const how = signal ? `signal ${signal}` : `exit code ${code}`;
  return `the collector process exited (${how}): every probe was detached — restart probeboard`;
}

class ChildTransport implements CollectorTransport {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #killAfterMs: number;
  #closing = false;

  constructor(child: ChildProcess, killAfterMs: number) {
    this.#child = child;
    this.#killAfterMs = killAfterMs;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  listen(onOutput: (output: CollectorOutput) => void, onGone: (reason: string) => void): void {
    this.#child.on('message', (message: CollectorOutput) => onOutput(message));
    this.#child.once('exit', (code, signal) => {
      if (!this.#closing) onGone(collectorGoneReason(code, signal));
    });
  }

  send(request: CollectorRequest): void {
    if (!this.#child.connected) throw new Error('the collector process is not connected');
    this.#child.send(request);
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#child.connected) this.#child.disconnect();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), this.#killAfterMs);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** Forks the collector process and resolves once it is ready for requests. */
export async function startCollectorProcess(options: CollectorProcessOptions = {}): Promise<CollectorBackend> {
  const child = fork(COLLECTOR_ENTRY, [], {
    execArgv: collectorExecArgv(),
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
      if (error) {
        child.kill('SIGKILL');
        reject(error);
      } else resolve();
    };
    const onMessage = (message: CollectorOutput) => {
      if (message.type === 'ready') done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(new CollectorStartError(`the collector process could not start (${signal ? `signal ${signal}` : `exit code ${code}`}); its messages are above`));
    const onError = (error: Error) => done(new CollectorStartError(`cannot start the collector process: ${error.message}`));
    const timer = setTimeout(() => done(new CollectorStartError(`the collector process was not ready within ${options.readyTimeoutMs ?? 30_000} ms`)), options.readyTimeoutMs ?? 30_000);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });
  return new CollectorClient(new ChildTransport(child, options.killAfterMs ?? 5000), 'process', child.pid!);
}
