/**
 * CollectorBackend: what the web process (hub features, server/index.ts) uses to reach the
 * collectors, wherever they run. Two implementations share everything but the transport:
 *   - inProcessBackend() (in-process.ts): a CollectorHost in this process (tests, the CLI, debugging);
 *   - startCollectorProcess() (child.ts): a CollectorHost in a separate privileged process over
 *     Node IPC; the web process itself then runs without root and without capabilities.
 *
 * Every open* call makes a new, independent handle (one per hub session, say); closing it
 * detaches everything it holds. When the collector is gone (`down`), every handle reports it
 * (profile: a `profile.stopped` message with the reason; latency and event probes: ended with
 * the reason) and every later request fails with that reason.
 *
 * Deadlines (ClientDeadlines): every request is rejected if its reply has not come within its
 * deadline (30 s unless the op has its own), naming the op; a reply that comes later is
 * dropped. With a heartbeat (the process backend), the client pings the collector every second
 * and declares it down — exactly as if it had exited, and with the channel cut — once nothing
 * at all has been heard from it for the heartbeat deadline: a collector whose event loop is
 * stuck can answer nothing, and the web process must not wait for it forever.
 */
import type { CollectorChannel, CollectorCommand as ProfileCommand, CollectorMessage } from '../collectors/types.ts';
import { IntervalMirror } from '../symbolizer/interned.ts';
import { LatencyView } from '../aggregator/latency.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type {
  DiscoveredObject,
  DiscoveredProcess,
  DiscoveredSymbol,
  DiscoveredTracepoint,
  DiscoveredUsdt,
  DiscoveryList,
} from '../../lib/protocol-events.ts';
import { MAX_LATENCY_PROBES } from '../../lib/protocol-latency.ts';
import type {
  HostCommand,
  CollectorEvent,
  CollectorOp,
  CollectorOutput,
  CollectorRequest,
  CommandResults,
  EventCounts,
  EventKind,
  EventRowData,
} from './protocol.ts';
import { CollectorEventCheck } from './event-check.ts';

// ---------------------------------------------------------------------------------------
// What the hub sees

export interface LatencyFilters {
  pid?: number;
  comm?: string;
  /** Linear parts per log2 bucket (1..16; default 8). */
  subBuckets?: number;
}

export type LatencyAddResult = { ok: true; id: string; spec: string; frame: LatencyProbeFrame } | { ok: false; error: string };

/** One set of latency probes (LatencyProbeSet in the collector), async. */
export interface LatencyProbes {
  /** Most probes live at once in this set. */
  readonly maxProbes: number;
  /** Adds a probe; on failure nothing changes and the error says what the user must fix. */
  add(spec: string, filters?: LatencyFilters): Promise<LatencyAddResult>;
  /** Detaches and forgets a probe (resolves once detached); false when it was not live. */
  remove(id: string): Promise<boolean>;
  /** Each probe's frame after every read. */
  onFrame(listener: (frame: LatencyProbeFrame) => void): () => void;
  /** A probe ended by itself (read failed, or the collector is gone); it is detached. */
  onEnd(listener: (id: string, reason: string) => void): () => void;
  /** Detaches every probe of the set. Idempotent. */
  close(): Promise<void>;
}

/** Where one event probe's output goes. */
export interface EventSink {
  /** New rows, oldest first, and the counters now (rows may be empty: counters only). */
  rows(rows: EventRowData[], counts: EventCounts): void;
  /** The probe ended by itself (its pid exited, reading failed, the collector is gone); it is detached. */
  ended(reason: string, counts: EventCounts): void;
}

/** A running event probe. */
export interface EventProbe {
  /** Canonical spec. */
  readonly spec: string;
  readonly kind: EventKind;
  /** Counters at start. */
  readonly counts: EventCounts;
  /** Stops it (every BPF fd closed; rows still in the kernel are delivered first); the final counters. */
  stop(): Promise<EventCounts>;
}

/** The event probes of one owner (session). */
export interface EventProbes {
  /** Loads and attaches a probe; rejects with what the user must fix. */
  start(spec: string, pid: number | undefined, sink: EventSink): Promise<EventProbe>;
  /** Stops every probe started here. Idempotent. */
  close(): Promise<void>;
}

/** The picker's lookups (docs/protocol.md, Discovery); each rejects with what was wrong. */
export interface Discovery {
  tracepoints(glob?: string): Promise<DiscoveryList<DiscoveredTracepoint>>;
  processes(query?: string): Promise<DiscoveryList<DiscoveredProcess>>;
  objects(pid: number): Promise<DiscoveryList<DiscoveredObject>>;
  symbols(binary: string, glob?: string): Promise<DiscoveryList<DiscoveredSymbol>>;
  usdt(target: { binary: string } | { pid: number }): Promise<DiscoveryList<DiscoveredUsdt>>;
}

export interface LatencyOpenOptions {
  /** ms between reads (default 1000). */
  intervalMs?: number;
  /** Most live probes (default and at most MAX_LATENCY_PROBES). */
  maxProbes?: number;
}

export interface CollectorBackend {
  /** 'in-process' or 'process' (a separate collector process). */
  readonly kind: 'in-process' | 'process';
  /** The collector process id (this process's for the in-process backend). */
  readonly pid: number;
  /** A new, independent profile source (sampling + symbolization in the collector). */
  openProfile(): CollectorChannel;
  /** A new, empty set of latency probes. */
  openLatency(options?: LatencyOpenOptions): LatencyProbes;
  /** A new owner of event probes. */
  openEvents(): EventProbes;
  readonly discovery: Discovery;
  /** Why the collector is gone, or null while it runs. */
  readonly down: string | null;
  /** Called once if the collector goes away (not on close()). */
  onDown(listener: (reason: string) => void): () => void;
  /** Closes every handle and, for the process backend, ends the collector process. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// The shared client: requests with ids, one reply each, events dispatched by handle

/** Moves requests to a CollectorHost and its output back. */
export interface CollectorTransport {
  send(request: CollectorRequest): void;
  /** Starts delivering the host's output. */
  listen(onOutput: (output: CollectorOutput) => void, onGone: (reason: string) => void): void;
  /** Ends the host (closing every handle). */
  close(): Promise<void>;
  /**
   * Cuts the channel at once, without waiting for anything (the collector was declared down:
   * nothing more from it is wanted). A process transport also tries to kill the process.
   */
  sever?(): void;
}

/** Default deadline of a request, ms (30 s). */
export const DEFAULT_REQUEST_DEADLINE_MS = 30_000;

/**
 * Ops that may legitimately take longer than the default (ms). discover.symbols reads and
 * demangles every function name of a binary: 2-5 s for /usr/bin/node on a loaded 2-core
 * machine, far more for a browser with debug symbols.
 */
export const REQUEST_DEADLINES_MS: Partial<Record<CollectorOp, number>> = {
  'discover.symbols': 60_000,
  'discover.usdt': 60_000,
};

export interface ClientDeadlines {
  /** ms a request waits for its reply before it is rejected (default DEFAULT_REQUEST_DEADLINE_MS). */
  requestMs?: number;
  /** Per-op deadlines (ms) over `requestMs` (default REQUEST_DEADLINES_MS). */
  perOpMs?: Partial<Record<CollectorOp, number>>;
  /**
   * Ping every `intervalMs`; declare the collector down when nothing has been heard from it
   * (no reply, no event) for `deadlineMs`. Off when absent (the in-process backend shares this
   * process's event loop: it cannot be stuck without this process being stuck too).
   */
  heartbeat?: { intervalMs: number; deadlineMs: number };
  /** Monotonic ms the heartbeat measures silence with (default performance.now; tests inject a mock clock). */
  clock?: () => number;
}

/** Most abandoned request ids remembered (their late replies are dropped silently). */
const MAX_ABANDONED = 1024;

/** How a collector that stopped answering is told to the user (profile status, ended probes, refused requests). */
export function collectorStalledReason(deadlineMs: number): string {
  return (
    `the collector process stopped answering for ${formatSeconds(deadlineMs)}: it was disconnected and every probe ends with it ` +
    '(it is killed, by the web process or its own watchdog, and its probes go with it) — restart probeboard'
  );
}

/** A request rejected because its reply did not come within its deadline. */
export class CollectorDeadlineError extends Error {}

/** A duration as people read it: `150 ms`, `2 s`, `2.5 s`. */
const formatSeconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1))} s`);

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** Something holding a handle that must hear about its events and about the collector's death. */
interface HandleOwner {
  event(event: CollectorEvent): void;
  down(reason: string): void;
}

export class CollectorClient implements CollectorBackend {
  readonly kind: 'in-process' | 'process';
  readonly pid: number;
  readonly discovery: Discovery;
  readonly #transport: CollectorTransport;
  readonly #pending = new Map<number, Pending>();
  readonly #owners = new Map<number, HandleOwner>();
  readonly #downListeners = new Set<(reason: string) => void>();
  readonly #deadlines: ClientDeadlines;
  /** Ids of requests given up on (deadline passed), oldest first: their late replies are dropped. */
  readonly #abandoned = new Set<number>();
  #nextId = 1;
  #nextHandle = 1;
  #down: string | null = null;
  #closed = false;
  #heartbeat: NodeJS.Timeout | null = null;
  /** Monotonic ms (ClientDeadlines.clock). */
  readonly #clock: () => number;
  /** #clock() when anything (reply or event) last came from the collector. */
  #lastHeardAt: number;
  #lastTickAt: number;
  #pingOutstanding = false;
  /** Every event is checked here before any handle sees it (event-check.ts). */
  readonly #events: CollectorEventCheck;

  /** `warn`: where a malformed event is reported, once per kind (default process.emitWarning). */
  constructor(transport: CollectorTransport, kind: 'in-process' | 'process', pid: number, deadlines: ClientDeadlines = {}, warn?: (message: string) => void) {
    this.#events = new CollectorEventCheck(warn);
    this.#transport = transport;
    this.kind = kind;
    this.pid = pid;
    this.#deadlines = deadlines;
    this.#clock = deadlines.clock ?? (() => performance.now());
    this.#lastHeardAt = this.#lastTickAt = this.#clock();
    transport.listen(
      (output) => this.#receive(output),
      (reason) => this.#gone(reason),
    );
    if (deadlines.heartbeat) {
      const { intervalMs, deadlineMs } = deadlines.heartbeat;
      this.#heartbeat = setInterval(() => this.#tick(intervalMs, deadlineMs), intervalMs);
      this.#heartbeat.unref(); // never what keeps this process alive
    }
    this.discovery = {
      tracepoints: (glob) => this.request({ op: 'discover.tracepoints', ...(glob !== undefined && { glob }) }),
      processes: (query) => this.request({ op: 'discover.processes', ...(query !== undefined && { query }) }),
      objects: (pid) => this.request({ op: 'discover.objects', pid }),
      symbols: (binary, glob) => this.request({ op: 'discover.symbols', binary, ...(glob !== undefined && { glob }) }),
      usdt: (target) => this.request('pid' in target ? { op: 'discover.usdt', pid: target.pid } : { op: 'discover.usdt', binary: target.binary }),
    };
  }

  get down(): string | null {
    return this.#down;
  }

  /** Events from the collector dropped as malformed since start, by kind (`type`); each kind's first is in the log. */
  get refusedEvents(): ReadonlyMap<string, number> {
    return this.#events.refused;
  }

  /**
   * Sends one command; resolves with its reply's value, rejects with its error, with why the
   * collector is gone, or, when no reply came within the op's deadline, with an error naming
   * the op and the deadline.
   */
  request<C extends HostCommand>(command: C): Promise<CommandResults[C['op']]> {
    if (this.#down !== null) return Promise.reject(new Error(this.#down));
    if (this.#closed) return Promise.reject(new Error('the collector backend is closed'));
    const id = this.#nextId++;
    const deadlineMs = (this.#deadlines.perOpMs ?? REQUEST_DEADLINES_MS)[command.op] ?? this.#deadlines.requestMs ?? DEFAULT_REQUEST_DEADLINE_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#pending.delete(id)) return;
        this.#abandon(id);
        reject(new CollectorDeadlineError(`the collector did not answer ${command.op} within ${formatSeconds(deadlineMs)}: the request was abandoned`));
      }, deadlineMs);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as CommandResults[C['op']]);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      try {
        this.#transport.send({ id, command });
      } catch (error) {
        this.#pending.delete(id);
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  #abandon(id: number): void {
    this.#abandoned.add(id);
    if (this.#abandoned.size > MAX_ABANDONED) this.#abandoned.delete(this.#abandoned.values().next().value!);
  }

  /** One heartbeat: declares the collector down after `deadlineMs` of silence, else pings it. */
  #tick(intervalMs: number, deadlineMs: number): void {
    if (this.#down !== null || this.#closed) return;
    const now = this.#clock();
    // When this process itself was blocked, the collector's answers may sit unread in the
    // channel: give them one more turn of the event loop before judging.
    const thisProcessWasBlocked = now - this.#lastTickAt > 2 * intervalMs + 250;
    this.#lastTickAt = now;
    if (!thisProcessWasBlocked && now - this.#lastHeardAt >= deadlineMs) {
      this.#gone(collectorStalledReason(deadlineMs));
      this.#transport.sever?.();
      return;
    }
    if (this.#pingOutstanding) return;
    const id = this.#nextId++;
    this.#pingOutstanding = true;
    const settled = () => {
      this.#pingOutstanding = false;
    };
    this.#pending.set(id, { resolve: settled, reject: settled });
    try {
      this.#transport.send({ id, command: { op: 'ping' } });
    } catch {
      this.#pending.delete(id);
      settled(); // a transport that cannot send reports its end through onGone
    }
  }

  #receive(output: CollectorOutput): void {
    this.#lastHeardAt = this.#clock();
    if (output?.type !== 'reply') {
      // The one place events enter the web process: checked against their schema, a bad one dropped.
      const event = this.#events.admit(output);
      if (event === null || event.type === 'ready') return;
      this.#owners.get(event.handle)?.event(event);
      return;
    }
    const pending = output.id === null ? undefined : this.#pending.get(output.id);
    if (!pending) {
      // A reply after its request's deadline: the caller was already told; nothing to do.
      if (output.id !== null && this.#abandoned.delete(output.id)) return;
      process.emitWarning(`collector reply to no pending request (${output.id}): ${output.ok ? 'ok' : output.error}`);
      return;
    }
    this.#pending.delete(output.id!);
    if (output.ok) pending.resolve(output.value);
    else pending.reject(new Error(output.error));
  }

  #gone(reason: string): void {
    if (this.#down !== null || this.#closed) return;
    this.#down = reason;
    this.#stopHeartbeat();
    for (const pending of this.#pending.values()) pending.reject(new Error(reason));
    this.#pending.clear();
    for (const owner of [...this.#owners.values()]) {
      try {
        owner.down(reason);
      } catch (error) {
        process.emitWarning(`collector-down listener threw: ${(error as Error).message}`);
      }
    }
    this.#owners.clear();
    for (const listener of [...this.#downListeners]) listener(reason);
  }

  onDown(listener: (reason: string) => void): () => void {
    this.#downListeners.add(listener);
    return () => this.#downListeners.delete(listener);
  }

  #handle(owner: HandleOwner): number {
    const handle = this.#nextHandle++;
    this.#owners.set(handle, owner);
    return handle;
  }

  #release(handle: number): Promise<void> {
    this.#owners.delete(handle);
    if (this.#down !== null || this.#closed) return Promise.resolve();
    return this.request({ op: 'close', handle }).then(() => undefined);
  }

  openProfile(): CollectorChannel {
    const listeners = new Set<(message: CollectorMessage) => void>();
    const emit = (message: CollectorMessage) => {
      for (const listener of [...listeners]) listener(message);
    };
    // The collector's frame and stack tables for this handle (intervals arrive interned).
    const mirror = new IntervalMirror();
    const handle = this.#handle({
      event: (event) => {
        if (event.type !== 'profile') return;
        const message = event.message;
        if (message.type !== 'profile.interned') return emit(message);
        let decoded: ReturnType<IntervalMirror['decode']>;
        try {
          decoded = mirror.decode(message.interval);
        } catch (error) {
          process.emitWarning(`profile interval dropped: ${(error as Error).message}`);
          return;
        }
        emit({ type: 'profile.interval', interval: decoded.interval, hz: message.hz, cpus: message.cpus, refs: decoded.refs });
      },
      down: (reason) => emit({ type: 'profile.stopped', reason }),
    });
    const opened = this.request({ op: 'profile.open', handle });
    opened.catch(() => undefined); // reported by the first request that needs it
    let closed = false;
    return {
      request: async (command: ProfileCommand) => {
        await opened;
        if (command.type === 'profile.stop') {
          await this.request({ op: 'profile.stop', handle });
        } else {
          await this.request({
            op: 'profile.start',
            handle,
            hz: command.hz,
            target: command.target,
            ...(command.intervalMs !== undefined && { intervalMs: command.intervalMs }),
            ...(command.profileType !== undefined && { profileType: command.profileType }),
            ...(command.offcpu !== undefined && { offcpu: command.offcpu }),
          });
        }
      },
      onMessage: (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        listeners.clear();
        await opened.catch(() => undefined);
        await this.#release(handle).catch(() => undefined);
      },
    };
  }

  openLatency(options: LatencyOpenOptions = {}): LatencyProbes {
    const frameListeners = new Set<(frame: LatencyProbeFrame) => void>();
    const endListeners = new Set<(id: string, reason: string) => void>();
    // Per live probe, its intervals folded into the frame viewers see (as profile intervals are
    // aggregated here, in the web process, not in the root collector).
    const live = new Map<string, LatencyView>();
    const ended = (id: string, reason: string) => {
      if (!live.delete(id)) return;
      for (const listener of [...endListeners]) listener(id, reason);
    };
    const handle = this.#handle({
      event: (event) => {
        if (event.type === 'latency.interval') {
          const view = live.get(event.id);
          if (!view) return; // removed while its interval was on the way
          const frame = view.apply(event.batch);
          for (const listener of [...frameListeners]) listener(frame);
        } else if (event.type === 'latency.end') ended(event.id, event.reason);
      },
      down: (reason) => {
        for (const id of [...live.keys()]) ended(id, reason);
      },
    });
    const opened = this.request({
      op: 'latency.open',
      handle,
      ...(options.intervalMs !== undefined && { intervalMs: options.intervalMs }),
      ...(options.maxProbes !== undefined && { maxProbes: options.maxProbes }),
    });
    opened.catch(() => undefined);
    let closed = false;
    return {
      maxProbes: options.maxProbes ?? MAX_LATENCY_PROBES,
      add: async (spec, filters = {}) => {
        try {
          await opened;
          const added = await this.request({
            op: 'latency.add',
            handle,
            spec,
            ...(filters.pid !== undefined && { pid: filters.pid }),
            ...(filters.comm !== undefined && { comm: filters.comm }),
            ...(filters.subBuckets !== undefined && { subBuckets: filters.subBuckets }),
          });
          const view = new LatencyView(added.id, added.spec);
          live.set(added.id, view);
          return { ok: true, ...added, frame: view.frame };
        } catch (error) {
          return { ok: false, error: (error as Error).message };
        }
      },
      remove: async (id) => {
        live.delete(id);
        if (this.#down !== null) return false;
        return this.request({ op: 'latency.remove', handle, id });
      },
      onFrame: (listener) => {
        frameListeners.add(listener);
        return () => frameListeners.delete(listener);
      },
      onEnd: (listener) => {
        endListeners.add(listener);
        return () => endListeners.delete(listener);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        live.clear();
        frameListeners.clear();
        endListeners.clear();
        await opened.catch(() => undefined);
        await this.#release(handle).catch(() => undefined);
      },
    };
  }

  openEvents(): EventProbes {
    const running = new Set<number>();
    let closed = false;
    const start = async (spec: string, pid: number | undefined, sink: EventSink): Promise<EventProbe> => {
      if (closed) throw new Error('these event probes are closed');
      let finished = false;
      let counts: EventCounts = { lost: 0, dropped: 0, transport: 'ringbuf' };
      const handle = this.#handle({
        event: (event) => {
          if (finished) return;
          if (event.type === 'events.rows') {
            counts = event.counts;
            sink.rows(event.rows, event.counts);
          } else if (event.type === 'events.end') {
            finished = true;
            counts = event.counts;
            sink.ended(event.reason, event.counts);
          }
        },
        down: (reason) => {
          if (finished) return;
          finished = true;
          sink.ended(reason, counts);
        },
      });
      running.add(handle);
      let started: CommandResults['events.start'];
      try {
        started = await this.request({ op: 'events.start', handle, spec, ...(pid !== undefined && { pid }) });
      } catch (error) {
        running.delete(handle);
        // Abandoned at its deadline, the start may still complete in the collector: close whatever it opens.
        if (error instanceof CollectorDeadlineError) void this.#release(handle).catch(() => undefined);
        else this.#owners.delete(handle);
        throw error;
      }
      counts = started.counts;
      let stopping: Promise<EventCounts> | null = null;
      return {
        spec: started.spec,
        kind: started.kind,
        counts: started.counts,
        stop: () =>
          (stopping ??= (async () => {
            running.delete(handle);
            if (this.#down === null && !this.#closed) {
              try {
                counts = await this.request({ op: 'events.stop', handle });
              } catch {
                // gone or already ended: nothing left to stop
              }
            }
            finished = true;
            this.#owners.delete(handle);
            return counts;
          })()),
      };
    };
    return {
      start,
      close: async () => {
        closed = true;
        await Promise.all([...running].map((handle) => this.#release(handle).catch(() => undefined)));
        running.clear();
      },
    };
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopHeartbeat();
    for (const pending of this.#pending.values()) pending.reject(new Error('the collector backend is closed'));
    this.#pending.clear();
    this.#owners.clear();
    await this.#transport.close();
  }
}
