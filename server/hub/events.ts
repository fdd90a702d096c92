/**
 * Hub feature: live event probes (docs/protocol.md, lib/protocol-events.ts).
 *
 * Probes are shared by every viewer. `events:add` opens one EventsCollector (its own BPF
 * object; a refusal changes nothing else), `events:remove` stops it at once. The list goes to
 * everyone as `events:probes` on every change (and every 2 s while its counters move).
 *
 * Memory stays bounded whatever the event rate: each probe keeps its newest `ringRows` rows
 * in a ring (older ones are overwritten), and each viewer has a cursor per probe. Every
 * `intervalMs`, a viewer whose previous batch of that probe was acknowledged gets one batch:
 * the newest rows since its cursor, at most `batchRows`, plus how many it missed (`skipped`).
 * A viewer still busy with its previous batch gets nothing new queued: its cursor simply
 * stays behind, so a slow browser costs one batch in flight, never a queue.
 */
import { existsSync } from 'node:fs';
import { EventsCollector, type EventRecord, type EventsOptions } from '../collectors/events.ts';
import {
  EVENTS_BATCH_INTERVAL_MS,
  EVENTS_BATCH_ROWS,
  EVENTS_RING_ROWS,
  MAX_EVENT_PROBES,
  type EventBatch,
  type EventProbeInfo,
  type EventProbeList,
  type EventRow,
  type EventsAdded,
} from '../../lib/protocol-events.ts';
import { checkEventsAdd, checkEventsRemove } from '../../lib/validate-events.ts';
import { RequestError, type FeatureFactory, type HubSocket } from './feature.ts';

/** Ended probes kept listed (oldest dropped beyond this). */
const MAX_ENDED = 8;
const FEATURE_KEY = 'events';
const streamOf = (id: string) => `events:${id}`;

export interface EventsFeatureOptions {
  /** Most live probes (default MAX_EVENT_PROBES). */
  maxProbes?: number;
  /** Rows kept per probe (default EVENTS_RING_ROWS). */
  ringRows?: number;
  /** Most rows per batch (default EVENTS_BATCH_ROWS). */
  batchRows?: number;
  /** ms between batches (default EVENTS_BATCH_INTERVAL_MS). */
  intervalMs?: number;
  /** Passed to each collector (transport, queueLimit, …; tests). */
  collector?: Omit<EventsOptions, 'onEvent' | 'pid'>;
  /** Wall clock (tests). */
  now?: () => number;
}

interface Probe {
  info: EventProbeInfo;
  collector: EventsCollector | null;
  /** Row n lives at ring[(n - 1) % ring.length]. */
  ring: (EventRow | undefined)[];
  /** Rows produced (the newest row's n). */
  total: number;
  secondStartMs: number;
  secondStartTotal: number;
  perSecond: number;
  /** Counters as last broadcast in the list. */
  listedCounts: string;
}

/** Per viewer: per probe id, the n of the newest row it was sent, and when its last batch left. */
interface ViewerState {
  cursors: Map<string, { n: number; sentAtMs: number }>;
}

function viewerState(socket: HubSocket): ViewerState {
  let state = socket.data.features.get(FEATURE_KEY) as ViewerState | undefined;
  if (!state) socket.data.features.set(FEATURE_KEY, (state = { cursors: new Map() }));
  return state;
}

export function eventsFeature(options: EventsFeatureOptions = {}): FeatureFactory {
  const maxProbes = options.maxProbes ?? MAX_EVENT_PROBES;
  const ringRows = Math.max(1, options.ringRows ?? EVENTS_RING_ROWS);
  const batchRows = Math.max(1, Math.min(options.batchRows ?? EVENTS_BATCH_ROWS, ringRows));
  const intervalMs = options.intervalMs ?? EVENTS_BATCH_INTERVAL_MS;
  const now = options.now ?? Date.now;

  return (hub) => {
    const probes = new Map<string, Probe>();
    let nextId = 1;
    let lastListMs = 0;

    const list = (): EventProbeList => ({ probes: [...probes.values()].map((p) => ({ ...p.info })), max: maxProbes });
    const broadcastList = () => {
      for (const p of probes.values()) p.listedCounts = countsKey(p);
      lastListMs = now();
      hub.broadcast('events:probes', list());
    };
    const countsKey = (p: Probe) => `${p.info.total} ${p.info.lost} ${p.info.dropped} ${p.info.state}`;

    const refreshStats = (p: Probe) => {
      if (!p.collector) return;
      try {
        const s = p.collector.stats();
        p.info.lost = s.lost;
        p.info.dropped = s.dropped;
        p.info.transport = s.transport;
      } catch {
        // a stats read failing is not worth ending the probe for
      }
    };

    /** Stops the collector (delivering what the kernel still holds) and marks the probe ended. */
    const end = (p: Probe, reason: string) => {
      if (p.collector) {
        const final = p.collector.stop();
        p.info.lost = final.lost;
        p.info.dropped = final.dropped;
        p.collector = null;
      }
      p.info.state = 'ended';
      p.info.error = reason;
      const ended = [...probes.values()].filter((e) => e.info.state === 'ended');
      for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED))) forget(old.info.id);
    };

    /** Drops a probe from the list and from every viewer's streams (nothing pending is sent). */
    const forget = (id: string) => {
      probes.delete(id);
      for (const socket of hub.sockets()) {
        const stream = socket.data.streams.get(streamOf(id));
        if (stream) stream.pending = null;
        socket.data.streams.delete(streamOf(id));
        viewerState(socket).cursors.delete(id);
      }
    };

    const batchFor = (socket: HubSocket, p: Probe, force: boolean): void => {
      const stream = socket.data.streams.get(streamOf(p.info.id));
      if (stream?.inFlight) return; // still drawing the previous one: its cursor waits
      const cursors = viewerState(socket).cursors;
      let cursor = cursors.get(p.info.id);
      if (!cursor) {
        // A new viewer (or probe) starts with the newest rows, nothing counted as missed.
        cursor = { n: Math.max(0, p.total - batchRows), sentAtMs: 0 };
        cursors.set(p.info.id, cursor);
      }
      const t = now();
      const fresh = p.total > cursor.n;
      if (!fresh && !force && t - cursor.sentAtMs < 1000) return; // nothing new: a heartbeat a second
      const from = Math.max(cursor.n, p.total - batchRows, p.total - p.ring.length);
      const rows: EventRow[] = [];
      for (let n = from + 1; n <= p.total; n++) rows.push(p.ring[(n - 1) % p.ring.length]!);
      const batch: Omit<EventBatch, 'seq'> = {
        id: p.info.id,
        rows,
        skipped: from - cursor.n,
        total: p.total,
        perSecond: p.perSecond,
        lost: p.info.lost,
        dropped: p.info.dropped,
      };
      cursor.n = p.total;
      cursor.sentAtMs = t;
      hub.sendLatest(socket, streamOf(p.info.id), 'events:batch', batch);
    };

    let lastStatsMs = 0;
    const tick = () => {
      const t = now();
      const statsDue = t - lastStatsMs >= 1000;
      if (statsDue) lastStatsMs = t;
      let changed = false;
      for (const p of probes.values()) {
        if (t - p.secondStartMs >= 1000) {
          p.perSecond = Math.round(((p.total - p.secondStartTotal) * 1000) / (t - p.secondStartMs));
          p.secondStartMs = t;
          p.secondStartTotal = p.total;
        }
        p.info.total = p.total;
        if (p.collector) {
          if (p.collector.error) {
            end(p, `reading events failed: ${p.collector.error.message}`);
            changed = true;
          } else if (statsDue) {
            refreshStats(p);
            if (p.info.pid !== null && !existsSync(`/proc/${p.info.pid}`)) {
              end(p, `process ${p.info.pid} exited: the probe was detached (its rows stay until removed)`);
              changed = true;
            }
          }
        }
        for (const socket of hub.sockets()) batchFor(socket, p, false);
      }
      if (changed || (t - lastListMs >= 2000 && [...probes.values()].some((p) => p.listedCounts !== countsKey(p)))) broadcastList();
    };
    const timer = setInterval(tick, intervalMs);
    timer.unref?.();

    return {
      onConnect(socket) {
        socket.emit('events:probes', list());
        for (const p of probes.values()) batchFor(socket, p, true);
      },
      onDisconnect(socket) {
        socket.data.features.delete(FEATURE_KEY);
      },
      handlers: {
        'events:add': (_socket, payload): EventsAdded => {
          const checked = checkEventsAdd(payload);
          if (!checked.ok) throw new RequestError(checked.error);
          const { spec, pid } = checked.value;
          const twin = [...probes.values()].find((p) => p.info.state === 'running' && p.info.spec === spec && p.info.pid === (pid ?? null));
          if (twin) throw new RequestError(`${spec}${pid ? ` (pid ${pid})` : ''} is already live as ${twin.info.id}`);
          const live = [...probes.values()].filter((p) => p.info.state === 'running').length;
          if (live >= maxProbes) throw new RequestError(`at most ${maxProbes} event probes can be live at once: remove one first`);
          if (pid !== undefined && !existsSync(`/proc/${pid}`)) throw new RequestError(`no process with pid ${pid}`);

          const id = `ev-${nextId++}`;
          const t = now();
          const probe: Probe = {
            info: { id, spec, kind: 'exec', pid: pid ?? null, state: 'running', error: null, addedAtMs: t, total: 0, lost: 0, dropped: 0, transport: 'ringbuf' },
            collector: null,
            ring: new Array(ringRows),
            total: 0,
            secondStartMs: t,
            secondStartTotal: 0,
            perSecond: 0,
            listedCounts: '',
          };
          const onEvent = (e: EventRecord) => {
            const n = ++probe.total;
            probe.ring[(n - 1) % ringRows] = { n, t: e.time, pid: e.pid, tid: e.tid, comm: e.comm, fields: e.fields };
          };
          let collector: EventsCollector;
          try {
            collector = new EventsCollector(spec, { ...options.collector, onEvent, ...(pid !== undefined && { pid }) });
            collector.start();
          } catch (error) {
            throw new RequestError(`${spec}: ${(error as Error).message}`);
          }
          probe.collector = collector;
          probe.info.spec = collector.probe;
          probe.info.kind = collector.plan.spec.kind;
          refreshStats(probe);
          probes.set(id, probe);
          // Viewers here now see the probe from its first row (what they miss counts as skipped);
          // a later viewer starts with the newest rows.
          for (const socket of hub.sockets()) viewerState(socket).cursors.set(id, { n: 0, sentAtMs: 0 });
          broadcastList();
          return { id, spec: collector.probe };
        },
        'events:remove': (_socket, payload) => {
          const checked = checkEventsRemove(payload);
          if (!checked.ok) throw new RequestError(checked.error);
          const p = probes.get(checked.value.id);
          if (!p) throw new RequestError(`no event probe ${checked.value.id} (already removed?)`);
          p.collector?.stop();
          p.collector = null;
          forget(p.info.id);
          broadcastList();
          return undefined;
        },
      },
      async close() {
        clearInterval(timer);
        for (const p of probes.values()) {
          p.collector?.stop();
          p.collector = null;
        }
        probes.clear();
      },
    };
  };
}
