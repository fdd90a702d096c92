/**
 * CollectorHost: what the collector process runs. It keeps a table of handles (profile sources,
 * latency probe sets, event probes) opened by the web process, carries out validated commands
 * (protocol.ts) on the real collectors, and sends what they produce back as CollectorEvents.
 *
 * The same host also runs inside the web process for the in-process backend (tests, debugging),
 * so both backends share one code path: validation, handles, errors, events.
 *
 * Event rows are batched (every `flushMs`), and held back while the channel to the web process
 * is congested (`canSend`): they then wait in the EventsCollector's bounded queue, and what does
 * not fit there is dropped and counted (`dropped`), so memory stays bounded whatever the rate.
 */
import { existsSync } from 'node:fs';
import { formatEventSpec, parseEventSpec } from '../../lib/event-spec.ts';
import { LocalCollectorChannel } from '../collectors/local.ts';
import { LatencyProbeSet, type LatencyProbeSetOptions } from '../collectors/latency-probes.ts';
import { EventsCollector, type EventsOptions } from '../collectors/events.ts';
import type { CollectorChannel } from '../collectors/types.ts';
import { Symbolizer } from '../symbolizer/index.ts';
import { IntervalInterner } from '../symbolizer/interned.ts';
import { discoverObjects, discoverSymbols, discoverTracepoints, discoverUsdt, listProcesses } from './discovery.ts';
import {
  checkRequest,
  type HostCommand,
  type CollectorEvent,
  type CollectorReply,
  type CommandResults,
  type EventCounts,
  type EventKind,
  type EventRowData,
} from './protocol.ts';

/** Rows held for the web process per event probe before the EventsCollector's own queue takes over. */
const MAX_PENDING_ROWS = 5000;
/** Most rows in one `events.rows` message. */
const MAX_ROWS_PER_MESSAGE = 2500;

export interface HostOptions {
  /** Profile sources instead of the kernel one (tests: a ReplayChannel). */
  openProfile?: () => CollectorChannel;
  /** Opens latency collectors (tests substitute fakes). */
  openLatencyCollector?: LatencyProbeSetOptions['open'];
  /** Passed to every EventsCollector (tests: transport, queue limit, batch sizes). Never from the channel. */
  events?: Omit<EventsOptions, 'onEvent' | 'pid' | 'canDeliver' | 'objectPath'>;
  /** Whether the channel to the web process takes more now (IPC backpressure); default always. */
  canSend?: () => boolean;
  /** ms between event row messages (default 25). */
  flushMs?: number;
}

interface ProfileEntry {
  kind: 'profile';
  channel: CollectorChannel;
  unsubscribe: () => void;
}

interface LatencyEntry {
  kind: 'latency';
  set: LatencyProbeSet;
  unsubscribe: () => void;
}

interface EventsEntry {
  kind: 'events';
  collector: EventsCollector | null;
  pid: number | null;
  rows: EventRowData[];
  counts: EventCounts;
  /** Counts as last sent. */
  sentCounts: string;
}

type Entry = ProfileEntry | LatencyEntry | EventsEntry;

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class CollectorHost {
  readonly #emit: (event: CollectorEvent) => void;
  readonly #options: HostOptions;
  readonly #entries = new Map<number, Entry>();
  #symbolizer: Symbolizer | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastCheckMs = 0;
  #closed = false;

  constructor(emit: (event: CollectorEvent) => void, options: HostOptions = {}) {
    this.#emit = emit;
    this.#options = options;
  }

  /** Open handles (tests). */
  get handles(): number {
    return this.#entries.size;
  }

  /** Validates a raw request and carries it out; always exactly one reply, never throws. */
  async handle(raw: unknown): Promise<CollectorReply> {
    const checked = checkRequest(raw);
    if (!checked.ok) return { type: 'reply', id: checked.id, ok: false, error: checked.error };
    const { id, command } = checked.value;
    try {
      const value = await this.execute(command);
      return { type: 'reply', id, ok: true, value };
    } catch (error) {
      return { type: 'reply', id, ok: false, error: messageOf(error) };
    }
  }

  /** Carries out a validated command. Rejects with a message meant for the user. */
  async execute<C extends HostCommand>(command: C): Promise<CommandResults[C['op']]>;
  async execute(command: HostCommand): Promise<unknown> {
    if (this.#closed) throw new Error('the collector is shutting down');
    switch (command.op) {
      case 'profile.open': {
        this.#free(command.handle);
        const channel = this.#options.openProfile?.() ?? new LocalCollectorChannel({ symbolizer: (this.#symbolizer ??= new Symbolizer()) });
        const handle = command.handle;
        // Intervals leave interned: each frame and stack once per handle, then ids and counts.
        const interner = new IntervalInterner();
        const unsubscribe = channel.onMessage((message) =>
          this.#emit({
            type: 'profile',
            handle,
            message:
              message.type === 'profile.interval'
                ? { type: 'profile.interned', interval: interner.intern(message.interval), hz: message.hz, cpus: message.cpus }
                : message,
          }),
        );
        this.#entries.set(handle, { kind: 'profile', channel, unsubscribe });
        return null;
      }
      case 'profile.start': {
        const { channel } = this.#entry(command.handle, 'profile');
        await channel.request({
          type: 'profile.start',
          hz: command.hz,
          target: command.target,
          ...(command.intervalMs !== undefined && { intervalMs: command.intervalMs }),
          ...(command.profileType !== undefined && { profileType: command.profileType }),
          ...(command.offcpu !== undefined && { offcpu: command.offcpu }),
        });
        return null;
      }
      case 'profile.stop':
        await this.#entry(command.handle, 'profile').channel.request({ type: 'profile.stop' });
        return null;
      case 'latency.open': {
        this.#free(command.handle);
        const handle = command.handle;
        const set = new LatencyProbeSet({
          ...(command.intervalMs !== undefined && { intervalMs: command.intervalMs }),
          ...(command.maxProbes !== undefined && { maxProbes: command.maxProbes }),
          ...(this.#options.openLatencyCollector && { open: this.#options.openLatencyCollector }),
        });
        const stopFrames = set.onReading(({ id, batch }) => this.#emit({ type: 'latency.interval', handle, id, batch }));
        const stopEnds = set.onEnd((id, reason) => this.#emit({ type: 'latency.end', handle, id, reason }));
        this.#entries.set(handle, { kind: 'latency', set, unsubscribe: () => (stopFrames(), stopEnds()) });
        return null;
      }
      case 'latency.add': {
        const { set } = this.#entry(command.handle, 'latency');
        const added = set.add(command.spec, {
          ...(command.pid !== undefined && { pid: command.pid }),
          ...(command.comm !== undefined && { comm: command.comm }),
          ...(command.subBuckets !== undefined && { subBuckets: command.subBuckets }),
        });
        if (!added.ok) throw new Error(added.error);
        return { id: added.id, spec: added.spec };
      }
      case 'latency.remove':
        return this.#entry(command.handle, 'latency').set.remove(command.id);
      case 'events.start':
        return this.#startEvents(command.handle, command.spec, command.pid);
      case 'events.stop': {
        const entry = this.#entry(command.handle, 'events');
        const counts = this.#stopEvents(command.handle, entry);
        this.#entries.delete(command.handle);
        return counts;
      }
      case 'discover.tracepoints':
        return discoverTracepoints(command.glob);
      case 'discover.processes':
        return listProcesses(command.query);
      case 'discover.objects':
        return discoverObjects(command.pid);
      case 'discover.symbols':
        return discoverSymbols(command.binary, command.glob);
      case 'discover.usdt':
        return discoverUsdt('pid' in command ? { pid: command.pid } : { binary: command.binary });
      case 'close':
        await this.#close(command.handle);
        return null;
      case 'ping':
        return null;
    }
  }

  #free(handle: number): void {
    if (this.#entries.has(handle)) throw new Error(`handle ${handle} is already open`);
  }

  #entry<K extends Entry['kind']>(handle: number, kind: K): Extract<Entry, { kind: K }> {
    const entry = this.#entries.get(handle);
    if (!entry) throw new Error(`no ${kind} handle ${handle} is open`);
    if (entry.kind !== kind) throw new Error(`handle ${handle} is a ${entry.kind} handle, not a ${kind} one`);
    return entry as Extract<Entry, { kind: K }>;
  }

  #startEvents(handle: number, specText: string, pid: number | undefined): CommandResults['events.start'] {
    this.#free(handle);
    const parsed = parseEventSpec(specText);
    const spec = parsed.ok ? formatEventSpec(parsed.spec) : specText;
    if (pid !== undefined && !existsSync(`/proc/${pid}`)) throw new Error(`no process with pid ${pid}`);
    const entry: EventsEntry = { kind: 'events', collector: null, pid: pid ?? null, rows: [], counts: { lost: 0, dropped: 0, transport: 'ringbuf' }, sentCounts: '' };
    const canSend = this.#options.canSend ?? (() => true);
    let collector: EventsCollector;
    try {
      collector = new EventsCollector(specText, {
        ...this.#options.events,
        onEvent: (e) => entry.rows.push({ t: e.time, pid: e.pid, tid: e.tid, comm: e.comm, fields: e.fields }),
        canDeliver: () => entry.rows.length < MAX_PENDING_ROWS && canSend(),
        ...(pid !== undefined && { pid }),
      });
      collector.start();
    } catch (error) {
      throw new Error(`${spec}: ${messageOf(error)}`);
    }
    entry.collector = collector;
    this.#refreshCounts(entry);
    this.#entries.set(handle, entry);
    this.#ensureTimer();
    return { spec: collector.probe, kind: collector.plan.spec.kind as EventKind, counts: { ...entry.counts } };
  }

  #refreshCounts(entry: EventsEntry): void {
    if (!entry.collector) return;
    try {
      const s = entry.collector.stats();
      entry.counts = { lost: s.lost, dropped: s.dropped, transport: s.transport };
    } catch {
      // a stats read failing is not worth ending the probe for
    }
  }

  /** Sends pending rows (in bounded messages) and the counts when they changed or `force`. */
  #flushRows(handle: number, entry: EventsEntry, force: boolean): void {
    while (entry.rows.length > 0) {
      const rows = entry.rows.length <= MAX_ROWS_PER_MESSAGE ? entry.rows : entry.rows.slice(0, MAX_ROWS_PER_MESSAGE);
      entry.rows = rows === entry.rows ? [] : entry.rows.slice(MAX_ROWS_PER_MESSAGE);
      this.#refreshCounts(entry);
      entry.sentCounts = JSON.stringify(entry.counts);
      this.#emit({ type: 'events.rows', handle, rows, counts: { ...entry.counts } });
      force = false;
    }
    if (force || JSON.stringify(entry.counts) !== entry.sentCounts) {
      entry.sentCounts = JSON.stringify(entry.counts);
      this.#emit({ type: 'events.rows', handle, rows: [], counts: { ...entry.counts } });
    }
  }

  /** Stops the collector (reading what the kernel still holds), sends the last rows; returns the final counts. */
  #stopEvents(handle: number, entry: EventsEntry): EventCounts {
    if (entry.collector) {
      const final = entry.collector.stop();
      entry.collector = null;
      entry.counts = { lost: final.lost, dropped: final.dropped, transport: final.transport };
    }
    this.#flushRows(handle, entry, false);
    return { ...entry.counts };
  }

  #endEvents(handle: number, entry: EventsEntry, reason: string): void {
    const counts = this.#stopEvents(handle, entry);
    this.#emit({ type: 'events.end', handle, reason, counts });
  }

  #ensureTimer(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.#tick(), this.#options.flushMs ?? 25);
    this.#timer.unref?.();
  }

  #tick(): void {
    const now = Date.now();
    const check = now - this.#lastCheckMs >= 1000;
    if (check) this.#lastCheckMs = now;
    let live = 0;
    for (const [handle, entry] of this.#entries) {
      if (entry.kind !== 'events' || !entry.collector) continue;
      const collector = entry.collector;
      if (collector.error) {
        this.#endEvents(handle, entry, `reading events failed: ${collector.error.message}`);
        continue;
      }
      if (check && entry.pid !== null && !existsSync(`/proc/${entry.pid}`)) {
        this.#endEvents(handle, entry, `process ${entry.pid} exited: the probe was detached (its rows stay until removed)`);
        continue;
      }
      live++;
      if (check) this.#refreshCounts(entry);
      this.#flushRows(handle, entry, false);
    }
    if (live === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  async #close(handle: number): Promise<void> {
    const entry = this.#entries.get(handle);
    if (!entry) return;
    this.#entries.delete(handle);
    switch (entry.kind) {
      case 'profile':
        entry.unsubscribe();
        await entry.channel.close();
        break;
      case 'latency':
        entry.unsubscribe();
        entry.set.close();
        break;
      case 'events':
        entry.collector?.stop();
        entry.collector = null;
        break;
    }
  }

  /** Closes every handle (every BPF object, link and perf event). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const handle of [...this.#entries.keys()]) {
      try {
        await this.#close(handle);
      } catch {
        // closing the rest anyway
      }
    }
  }
}
