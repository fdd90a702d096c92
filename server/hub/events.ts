/**
 * Hub feature: live event probes (docs/protocol.md, lib/protocol-events.ts).
 *
 * Probes are shared by every viewer of the feature. `events:add` starts one through the
 * feature's EventProbes (an EventsCollector in the collector: its own BPF object; a refusal
 * changes nothing else), `events:remove` stops it at once. The list goes to everyone as
 * `events:probes` on every change (and every 2 s while its counters move). A probe ends by
 * itself when its pid exits, its read fails or the collector process dies (with the reason).
 *
 * Memory stays bounded whatever the event rate: each probe keeps its newest `ringRows` rows
 * in a ring (older ones are overwritten), and each viewer has a cursor per probe. Every
 * `intervalMs`, a viewer whose previous batch of that probe was acknowledged gets one batch:
 * the newest rows since its cursor, at most `batchRows`, plus how many it missed (`skipped`).
 * A viewer still busy with its previous batch gets nothing new queued: its cursor simply
 * stays behind, so a slow browser costs one batch in flight, never a queue.
 */
import type { EventProbe, EventProbes } from '../privileged/backend.ts';
import type { EventCounts, EventRowData } from '../privileged/protocol.ts';
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
import { RequestError, type FeatureFactory, type HubSocket } from './feature.ts';
import { EVENTS_PROBES, EVENTS_ROWS } from './recording.ts';
import { DEFAULT_MAX_PROBE_MS, maxDurationReason } from './latency.ts';

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
  /** Wall clock (tests). */
  now?: () => number;
  /** Longest a probe stays attached, ms (default DEFAULT_MAX_PROBE_MS, as latency probes). */
  maxProbeMs?: number;
}

interface Probe {
  info: EventProbeInfo;
  /** The running probe; null once stopped or ended (or while it starts). */
  collector: EventProbe | null;
  /** Row n lives at ring[(n - 1) % ring.length]. */
  ring: (EventRow | undefined)[];
  /** Rows produced (the newest row's n). */
  total: number;
  secondStartMs: number;
  secondStartTotal: number;
  perSecond: number;
  /** Counters as last broadcast in the list. */
  listedCounts: string;
  /** The n of the newest row stored in the session's recording. */
  recordedN: number;
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

/** `events`: this feature's own event probes (backend.openEvents()); the feature closes them. */
export function eventsFeature(events: EventProbes, options: EventsFeatureOptions = {}): FeatureFactory {
  const maxProbes = options.maxProbes ?? MAX_EVENT_PROBES;
  const ringRows = Math.max(1, options.ringRows ?? EVENTS_RING_ROWS);
  const batchRows = Math.max(1, Math.min(options.batchRows ?? EVENTS_BATCH_ROWS, ringRows));
  const intervalMs = options.intervalMs ?? EVENTS_BATCH_INTERVAL_MS;
  const maxProbeMs = options.maxProbeMs ?? DEFAULT_MAX_PROBE_MS;
  const now = options.now ?? Date.now;

  return (hub) => {
    const probes = new Map<string, Probe>();
    let nextId = 1;
    let lastListMs = 0;
    let closed = false;

    const list = (): EventProbeList => ({ probes: [...probes.values()].map((p) => ({ ...p.info })), max: maxProbes });
    const broadcastList = () => {
      for (const p of probes.values()) p.listedCounts = countsKey(p);
      lastListMs = now();
      const current = list();
      hub.broadcast('events:probes', current);
      hub.record(EVENTS_PROBES, current);
    };

    /**
     * Into a running recording: the rows since the last recorded one, at most `batchRows` per
     * tick (a flood is sampled, as viewers see it: the rest are counted as skipped).
     */
    const recordRows = (p: Probe) => {
      if (!hub.recording() || p.total <= p.recordedN) return;
      const from = Math.max(p.recordedN, p.total - batchRows, p.total - p.ring.length);
      const rows: EventRow[] = [];
      for (let n = from + 1; n <= p.total; n++) rows.push(p.ring[(n - 1) % p.ring.length]!);
      hub.record(EVENTS_ROWS, { id: p.info.id, rows, skipped: from - p.recordedN, total: p.total, perSecond: p.perSecond, lost: p.info.lost, dropped: p.info.dropped });
      p.recordedN = p.total;
    };
    const countsKey = (p: Probe) => `${p.info.total} ${p.info.lost} ${p.info.dropped} ${p.info.state}`;

    const setCounts = (p: Probe, counts: EventCounts) => {
      p.info.lost = counts.lost;
      p.info.dropped = counts.dropped;
      p.info.transport = counts.transport;
    };

    /** Marks a probe ended (the collector detached it already). */
    const end = (p: Probe, reason: string) => {
      p.collector = null;
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

    const tick = () => {
      const t = now();
      for (const p of probes.values()) {
        if (p.collector && p.info.state === 'running' && t - p.info.addedAtMs >= maxProbeMs) {
          const collector = p.collector;
          end(p, maxDurationReason(maxProbeMs));
          collector.stop().then((counts) => setCounts(p, counts), () => undefined);
          broadcastList();
        }
        if (t - p.secondStartMs >= 1000) {
          p.perSecond = Math.round(((p.total - p.secondStartTotal) * 1000) / (t - p.secondStartMs));
          p.secondStartMs = t;
          p.secondStartTotal = p.total;
        }
        p.info.total = p.total;
        recordRows(p);
        for (const socket of hub.sockets()) batchFor(socket, p, false);
      }
      if (t - lastListMs >= 2000 && [...probes.values()].some((p) => p.listedCounts !== countsKey(p))) broadcastList();
    };
    const timer = setInterval(tick, intervalMs);
    timer.unref?.();

    return {
      onRecordingStart() {
        for (const p of probes.values()) p.recordedN = p.total;
        hub.record(EVENTS_PROBES, list());
      },
      onConnect(socket) {
        socket.emit('events:probes', list());
        for (const p of probes.values()) batchFor(socket, p, true);
      },
      onDisconnect(socket) {
        socket.data.features.delete(FEATURE_KEY);
      },
      handlers: {
        // Payloads arrive checked by the hub (lib/schema/events.ts): the spec canonical, pid absent when not given.
        'events:add': async (_socket, payload): Promise<EventsAdded> => {
          const { spec, pid } = payload;
          const twin = [...probes.values()].find((p) => p.info.state === 'running' && p.info.spec === spec && p.info.pid === (pid ?? null));
          if (twin) throw new RequestError(`${spec}${pid ? ` (pid ${pid})` : ''} is already live as ${twin.info.id}`);
          const live = [...probes.values()].filter((p) => p.info.state === 'running').length;
          if (live >= maxProbes) throw new RequestError(`at most ${maxProbes} event probes can be live at once: remove one first`);

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
            recordedN: 0,
          };
          // Listed (as running) while it starts, so a twin or one over the cap is refused meanwhile.
          probes.set(id, probe);
          let endedEarly: string | null = null;
          let started: EventProbe;
          try {
            started = await events.start(spec, pid, {
              rows: (rows: EventRowData[], counts: EventCounts) => {
                for (const r of rows) {
                  const n = ++probe.total;
                  probe.ring[(n - 1) % ringRows] = { n, t: r.t, pid: r.pid, tid: r.tid, comm: r.comm, fields: r.fields };
                }
                setCounts(probe, counts);
              },
              ended: (reason: string, counts: EventCounts) => {
                setCounts(probe, counts);
                if (!probe.collector) {
                  endedEarly = reason; // before the start reply came back
                  return;
                }
                if (!probes.has(id) || probe.info.state === 'ended') return;
                end(probe, reason);
                broadcastList();
              },
            });
          } catch (error) {
            probes.delete(id);
            throw new RequestError((error as Error).message);
          }
          if (closed || !probes.has(id)) {
            await started.stop();
            throw new RequestError('the events panel closed while the probe started');
          }
          probe.collector = started;
          probe.info.spec = started.spec;
          probe.info.kind = started.kind;
          setCounts(probe, started.counts);
          // Viewers here now see the probe from its first row (what they miss counts as skipped);
          // a later viewer starts with the newest rows.
          for (const socket of hub.sockets()) viewerState(socket).cursors.set(id, { n: 0, sentAtMs: 0 });
          if (endedEarly !== null) end(probe, endedEarly);
          broadcastList();
          return { id, spec: started.spec };
        },
        'events:remove': async (_socket, payload) => {
          const p = probes.get(payload.id);
          if (!p || (p.collector === null && p.info.state === 'running')) throw new RequestError(`no event probe ${payload.id} (already removed, or still starting)`);
          const running = p.collector;
          p.collector = null;
          forget(p.info.id);
          // Every BPF fd closed before the reply.
          await running?.stop();
          broadcastList();
          return undefined;
        },
      },
      async close() {
        closed = true;
        clearInterval(timer);
        const running = [...probes.values()].map((p) => p.collector).filter((c) => c !== null);
        for (const p of probes.values()) p.collector = null;
        probes.clear();
        await Promise.all(running.map((c) => c.stop()));
        await events.close();
      },
    };
  };
}
