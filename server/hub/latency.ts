/**
 * Hub feature: the shared latency probes (docs/protocol.md, lib/protocol-latency.ts).
 *
 * Probes are shared by every viewer of the feature. `latency:add` opens one in the feature's
 * LatencyProbes (a LatencyProbeSet in the collector: its own BPF object per probe; a refusal
 * changes nothing else), `latency:remove` detaches it at once. Every change
 * to the list is broadcast as `latency:probes`; each probe's frames go to every viewer through
 * the hub's flow control, one stream per probe (`latency:<id>`). A new viewer gets the list
 * and every probe's newest frame at once.
 *
 * A probe whose `--pid` process exited, or whose read failed, is detached and kept in the list
 * as `ended` (with its last frame) until a viewer removes it; a probe on a deleted or replaced
 * binary is `stale` and keeps running until the same probe is added again: the new one attaches
 * to the new file and replaces it (the stale one is detached and leaves the list). If the collector process dies, every probe ends with
 * the reason (and later adds are refused with it).
 */
import type { LatencyProbes } from '../privileged/backend.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { LatencyAdded, LatencyProbeInfo, LatencyProbeList } from '../../lib/protocol-latency.ts';
import { DEFAULT_SUB_BUCKETS } from '../../lib/histogram.ts';
import { RequestError, type FeatureFactory, type HubSocket } from './feature.ts';
import { LATENCY_FRAME, LATENCY_PROBES } from './recording.ts';

/** Ended probes kept listed (oldest dropped beyond this). */
const MAX_ENDED = 16;

const streamOf = (id: string) => `latency:${id}`;

interface Entry {
  info: LatencyProbeInfo;
  frame: LatencyProbeFrame;
  /** spec + filters as requested, to refuse an identical probe twice. */
  request: string;
  /** Ending by itself: its detach was asked for and it is shown ended once that is done. */
  ending?: boolean;
}

export interface LatencyFeatureOptions {
  /** Wall clock (tests). */
  now?: () => number;
  /**
   * Longest a probe stays attached, ms (default DEFAULT_MAX_PROBE_MS): then it is detached and
   * listed as ended with the reason, so a forgotten probe does not run for ever.
   */
  maxProbeMs?: number;
}

/** Default longest life of a latency or event probe: 4 hours (serve --max-probe-minutes). */
export const DEFAULT_MAX_PROBE_MS = 4 * 60 * 60_000;

/** The reason a probe that ran for `maxProbeMs` ends with. */
export function maxDurationReason(maxProbeMs: number): string {
  return `reached the maximum probe duration (${Math.round(maxProbeMs / 60_000)} min, serve --max-probe-minutes): the probe was detached`;
}

/** `probes`: this feature's own set (backend.openLatency()); the feature closes it. */
export function latencyFeature(probes: LatencyProbes, options: LatencyFeatureOptions = {}): FeatureFactory {
  const now = options.now ?? Date.now;
  const maxProbeMs = options.maxProbeMs ?? DEFAULT_MAX_PROBE_MS;
  return (hub) => {
    const entries = new Map<string, Entry>();

    const list = (): LatencyProbeList => ({ probes: [...entries.values()].map((e) => e.info), max: probes.maxProbes });
    const broadcastList = () => {
      const current = list();
      hub.broadcast('latency:probes', current);
      hub.record(LATENCY_PROBES, current);
    };
    const sendFrame = (socket: HubSocket, frame: LatencyProbeFrame) => hub.sendLatest(socket, streamOf(frame.id), 'latency:frame', frame);
    const sendToAll = (frame: LatencyProbeFrame) => {
      hub.record(LATENCY_FRAME, frame);
      for (const socket of hub.sockets()) sendFrame(socket, frame);
    };

    const end = (entry: Entry, reason: string) => {
      entry.info = { ...entry.info, state: 'ended', error: reason };
      const ended = [...entries.values()].filter((e) => e.info.state === 'ended');
      for (const old of ended.slice(0, Math.max(0, ended.length - MAX_ENDED))) forget(old.info.id);
    };

    /** Drops a probe from the list and every viewer's stream of it (no pending frame is sent). */
    const forget = (id: string) => {
      entries.delete(id);
      for (const socket of hub.sockets()) {
        const state = socket.data.streams.get(streamOf(id));
        if (state) state.pending = null;
        socket.data.streams.delete(streamOf(id));
      }
    };

    /**
     * Ends a probe that ended by itself: detached first, then shown ended, so that what viewers
     * read ("the probe was detached") is already true when they read it. A collector that is
     * gone has detached everything anyway: a failed remove ends it all the same.
     */
    const endAfterDetach = (entry: Entry, reason: string) => {
      entry.ending = true;
      void probes
        .remove(entry.info.id)
        .catch(() => undefined)
        .then(() => {
          if (entries.get(entry.info.id) !== entry || entry.info.state === 'ended') return;
          end(entry, reason);
          broadcastList();
        });
    };

    /** Requests of adds under way (a twin of one is refused). */
    const adding = new Set<string>();

    const stopFrames = probes.onFrame((frame) => {
      const entry = entries.get(frame.id);
      if (!entry) return;
      entry.frame = frame;
      if (entry.ending) {
        // Its detach is under way: the last picture is kept, nothing else changes.
      } else if (entry.info.state !== 'ended' && now() - entry.info.addedAtMs >= maxProbeMs) {
        endAfterDetach(entry, maxDurationReason(maxProbeMs));
      } else if (frame.targetExited && entry.info.state !== 'ended') {
        endAfterDetach(entry, `process ${entry.info.pid} exited: the probe was detached (its last picture stays until removed)`);
      } else if (frame.stale && entry.info.state === 'running') {
        entry.info = { ...entry.info, state: 'stale', error: frame.stale };
        broadcastList();
      }
      sendToAll(frame);
    });
    const stopEnds = probes.onEnd((id, reason) => {
      const entry = entries.get(id);
      if (!entry || entry.info.state === 'ended') return;
      end(entry, reason);
      broadcastList();
    });

    return {
      exports: { latency: (id) => entries.get(id)?.frame ?? null },
      onRecordingStart() {
        hub.record(LATENCY_PROBES, list());
        for (const entry of entries.values()) hub.record(LATENCY_FRAME, entry.frame);
      },
      onConnect(socket) {
        socket.emit('latency:probes', list());
        for (const entry of entries.values()) sendFrame(socket, entry.frame);
      },
      handlers: {
        // Payloads arrive checked by the hub (lib/schema/latency.ts): the spec canonical, filters absent when not given.
        'latency:add': async (_socket, payload): Promise<LatencyAdded> => {
          const { spec, pid, comm, subBuckets } = payload;
          const request = JSON.stringify([spec, pid ?? null, comm ?? null, subBuckets ?? DEFAULT_SUB_BUCKETS]);
          // A stale twin (its binary was replaced or deleted since it attached) watches a file that
          // is no longer there: it does not block the same request, which replaces it once attached.
          const twin = [...entries.values()].find((e) => e.request === request && e.info.state === 'running');
          if (twin) throw new RequestError(`${spec}${pid ? ` (pid ${pid})` : ''} is already live as ${twin.info.id}`);
          const staleTwins = [...entries.values()].filter((e) => e.request === request && e.info.state === 'stale');
          if (adding.has(request)) throw new RequestError(`${spec}${pid ? ` (pid ${pid})` : ''} is being added already`);
          adding.add(request);
          let added;
          try {
            added = await probes.add(spec, { ...(pid !== undefined && { pid }), ...(comm !== undefined && { comm }), ...(subBuckets !== undefined && { subBuckets }) });
          } finally {
            adding.delete(request);
          }
          if (!added.ok) throw new RequestError(added.error);
          for (const stale of staleTwins) {
            if (entries.get(stale.info.id) !== stale) continue; // removed meanwhile
            forget(stale.info.id);
            await probes.remove(stale.info.id).catch(() => false);
          }
          const frame = added.frame;
          entries.set(added.id, {
            info: { id: added.id, spec: added.spec, pid: pid ?? null, comm: comm ?? null, subBuckets: subBuckets ?? DEFAULT_SUB_BUCKETS, state: 'running', error: null, addedAtMs: now() },
            frame,
            request,
          });
          broadcastList();
          sendToAll(frame);
          return { id: added.id, spec: added.spec };
        },
        'latency:remove': async (_socket, payload) => {
          const { id } = payload;
          const entry = entries.get(id);
          if (!entry) throw new RequestError(`no latency probe ${id} (already removed?)`);
          forget(id);
          // Detached before the reply; an ended probe is already detached (and the collector may be gone).
          if (entry.info.state !== 'ended') await probes.remove(id).catch(() => false);
          broadcastList();
          return undefined;
        },
      },
      async close() {
        stopFrames();
        stopEnds();
        entries.clear();
        await probes.close();
      },
    };
  };
}
