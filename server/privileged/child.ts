/**
 * The process CollectorBackend: forks the collector process (main.ts) with a private IPC channel
 * (`serialization: 'advanced'`) and talks to it through the shared CollectorClient.
 *
 * Started by the root web process before it drops its privileges (drop.ts), so the collector
 * keeps root and the web process keeps nothing. If the collector dies, the backend goes `down`
 * with a reason naming how it exited; every handle reports it and later requests fail with it.
 * close() disconnects the channel (the collector closes everything and exits) and waits for the
 * exit (SIGKILL after `killAfterMs`; once this process has dropped root it may not kill the
 * collector, and then stops waiting: the collector's own lifeline ends it).
 *
 * Liveness: the client pings the collector every `heartbeatIntervalMs` and declares it down
 * (reason: collectorStalledReason) when nothing has come from it for `heartbeatDeadlineMs`; the
 * channel is then cut. The collector, for its part, dies with this process (PR_SET_PDEATHSIG)
 * and kills itself when its main thread stops running (its watchdog): see lifeline.ts.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CollectorClient, type CollectorBackend, type CollectorTransport } from './backend.ts';
import type { CollectorOp, CollectorOutput, CollectorRequest } from './protocol.ts';
import { envMs, PARENT_PID_ENV, PEER_UID_ENV, WATCHDOG_ENV } from './lifeline.ts';
import { BUNDLED } from '../bundled.ts';

/**
 * What the collector process runs. Bundled (what users run): dist/collector.js, plain JavaScript,
 * with no loader (root must not run tsx: issue "Root stays root's", findings 1, 2 and 5). From the
 * sources (tests run TypeScript directly): main.ts under the tsx loader.
 * Its argv never carries a secret (/proc/PID/cmdline is readable by every local user).
 */
const COLLECTOR_ENTRY = BUNDLED ? fileURLToPath(new URL('../../dist/collector.js', import.meta.url)) : fileURLToPath(new URL('./main.ts', import.meta.url));
/**
 * V8 flags of the collector, on its command line: a 1 MB semi-space (young generation 3 MB
 * instead of 12 MB). Measured with bench/steady (one viewer, 99 Hz, side by side): ~5 MB less
 * RSS per process at the same CPU; --optimize-for-size made the collector slow enough to miss
 * its heartbeat on a loaded machine, and --v8-pool-size=1 / --single-threaded-gc /
 * MALLOC_ARENA_MAX=2 showed no difference beyond the noise.
 */
const COLLECTOR_V8_FLAGS = ['--max-semi-space-size=1'];
const collectorExecArgv = (): string[] => (BUNDLED ? COLLECTOR_V8_FLAGS : ['--import', import.meta.resolve('tsx'), ...COLLECTOR_V8_FLAGS]);

export class CollectorStartError extends Error {}

export interface CollectorProcessOptions {
  /** How long to wait for the collector's `ready` (default 30 s: first loads compile TypeScript). */
  readyTimeoutMs?: number;
  /** How long close() waits for the collector to exit before SIGKILL (default 5 s). */
  killAfterMs?: number;
  /** ms between heartbeat pings (default 1 s). */
  heartbeatIntervalMs?: number;
  /**
   * ms of silence after which the collector is declared down (default: HEARTBEAT_DEADLINE_ENV,
   * else 15 s, three times the longest synchronous stretch measured in normal work, a
   * discover.symbols of every function of node on a loaded 2-core machine).
   */
  heartbeatDeadlineMs?: number;
  /** Default request deadline, ms (default DEFAULT_REQUEST_DEADLINE_MS, 30 s). */
  requestDeadlineMs?: number;
  /** Per-op request deadlines, ms (default REQUEST_DEADLINES_MS). */
  requestDeadlinesMs?: Partial<Record<CollectorOp, number>>;
  /** The collector's watchdog period, ms (default: its own, 30 s; at least 500). */
  watchdogMs?: number;
  /**
   * The uid this process is about to drop to (drop.ts dropTarget()), if it will: the root
   * collector then accepts signals from it, so that the kernel can deliver its death signal
   * when this process dies and this process can kill a collector that stopped answering
   * (lifeline.ts says why that is safe).
   */
  peerUid?: number;
}

export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1000;
export const DEFAULT_HEARTBEAT_DEADLINE_MS = 15_000;
/**
 * The heartbeat deadline in ms from the environment, for slow machines (an emulated VM runs the
 * collector's first symbolization for well over 10 s); at least 2 s.
 */
export const HEARTBEAT_DEADLINE_ENV = 'PROBEBOARD_COLLECTOR_HEARTBEAT_DEADLINE_MS';

/** The collector's environment: this process's, plus who its parent is and its watchdog period. */
/**
 * glibc malloc settings for the collector, unless the environment already sets them: a fixed
 * 128 KiB mmap threshold (glibc otherwise raises it, up to 32 MiB, after the first large block
 * is freed, so the symbol tables read while indexing a binary (node's are ~17 MB) and later
 * IPC buffers come from the brk heap, which keeps its pages after they are freed) and a 128 KiB
 * trim threshold. Measured with bench/steady (one viewer, 99 Hz): collector RSS ~105 -> ~85 MB
 * at the same CPU. bin/probeboard.js's #! line and `npm start` set the same for the web process.
 */
const MALLOC_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };

function collectorEnvironment(options: CollectorProcessOptions): NodeJS.ProcessEnv {
  return {
    ...MALLOC_ENV,
    ...process.env,
    [PARENT_PID_ENV]: String(process.pid),
    ...(options.peerUid !== undefined && { [PEER_UID_ENV]: String(options.peerUid) }),
    ...(options.watchdogMs !== undefined && { [WATCHDOG_ENV]: String(options.watchdogMs) }),
  };
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
    // ChildProcess emits 'error' when a kill fails with anything but ESRCH (EPERM once this
    // process has dropped root); unhandled, that would crash the web process.
    child.on('error', (error) => process.emitWarning(`collector process: ${error.message}`));
  }

  /** SIGKILL; false when not permitted (this process no longer root) or already gone. */
  #kill(): boolean {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return false;
    try {
      process.kill(this.#child.pid!, 'SIGKILL');
      return true;
    } catch {
      return false;
    }
  }

  sever(): void {
    this.#closing = true;
    if (this.#child.connected) this.#child.disconnect();
    // Permitted while this process is root, or once the collector accepts signals from the uid
    // it dropped to (peerUid); otherwise the collector's watchdog ends it if it is stuck.
    this.#kill();
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
    let giveUp: () => void = () => undefined;
    const gaveUp = new Promise<void>((resolve) => (giveUp = resolve));
    // Not permitted to kill it: stop waiting; its watchdog, or this process's exit, ends it.
    const timer = setTimeout(() => this.#kill() || giveUp(), this.#killAfterMs);
    await Promise.race([this.#exited, gaveUp]);
    clearTimeout(timer);
  }
}

/** Forks the collector process and resolves once it is ready for requests. */
export async function startCollectorProcess(options: CollectorProcessOptions = {}): Promise<CollectorBackend> {
  const child = fork(COLLECTOR_ENTRY, [], {
    execArgv: collectorExecArgv(),
    serialization: 'advanced',
    env: collectorEnvironment(options),
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
  return new CollectorClient(new ChildTransport(child, options.killAfterMs ?? 5000), 'process', child.pid!, {
    heartbeat: { intervalMs: options.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_INTERVAL_MS, deadlineMs: options.heartbeatDeadlineMs ?? envMs(process.env[HEARTBEAT_DEADLINE_ENV], DEFAULT_HEARTBEAT_DEADLINE_MS, 2000) },
    ...(options.requestDeadlineMs !== undefined && { requestMs: options.requestDeadlineMs }),
    ...(options.requestDeadlinesMs !== undefined && { perOpMs: options.requestDeadlinesMs }),
  });
}
