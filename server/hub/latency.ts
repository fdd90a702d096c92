/**
 * Hub feature: the shared latency probes (docs/protocol.md, lib/protocol-latency.ts).
 *
 * Probes are shared by every viewer. `latency:add` opens one (LatencyProbeSet: its own BPF
 * object; a refusal changes nothing else), `latency:remove` detaches it at once. Every change
 * to the list is broadcast as `latency:probes`; each probe's frames go to every viewer through
 * the hub's flow control, one stream per probe (`latency:<id>`). A new viewer gets the list
 * and every probe's newest frame at once.
 *
 * A probe whose `--pid` process exited, or whose read failed, is detached and kept in the list
 * as `ended` (with its last frame) until a viewer removes it; a probe on a deleted or replaced
 * binary is `stale` and keeps running.
 */
import type { LatencyProbeSet } from '../collectors/latency-probes.ts';
import type { LatencyProbeFrame } from '../../lib/latency-view.ts';
import type { LatencyAdded, LatencyProbeInfo, LatencyProbeList } from '../../lib/protocol-latency.ts';
import { checkLatencyAdd, checkLatencyRemove } from '../../lib/validate-latency.ts';
import { RequestError, type FeatureFactory, type HubSocket } from './feature.ts';

/** Ended probes kept listed (oldest dropped beyond this). */
const MAX_ENDED = 16;

const streamOf = (id: string) => `latency:${id}`;

interface Entry {
  info: LatencyProbeInfo;
  frame: LatencyProbeFrame;
  /** spec + filters as requested, to refuse an identical probe twice. */
  request: string;
}

export interface LatencyFeatureOptions {
  /** Wall clock (tests). */
  now?: () => number;
}

export function latencyFeature(probes: LatencyProbeSet, options: LatencyFeatureOptions = {}): FeatureFactory {
  const now = options.now ?? Date.now;
  return (hub) => {
    const entries = new Map<string, Entry>();

    const list = (): LatencyProbeList => ({ probes: [...entries.values()].map((e) => e.info), max: probes.maxProbes });
    const broadcastList = () => hub.broadcast('latency:probes', list());
    const sendFrame = (socket: HubSocket, frame: LatencyProbeFrame) => hub.sendLatest(socket, streamOf(frame.id), 'latency:frame', frame);
    const sendToAll = (frame: LatencyProbeFrame) => {
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

    for (const probe of probes.list()) {
      const frame = probes.frames().find((f) => f.id === probe.id)!;
      entries.set(probe.id, {
        info: { id: probe.id, spec: probe.spec, pid: probe.filters.pid ?? null, comm: probe.filters.comm ?? null, state: 'running', error: null, addedAtMs: now() },
        frame,
        request: JSON.stringify([probe.spec, probe.filters.pid ?? null, probe.filters.comm ?? null]),
      });
    }

    const stopFrames = probes.onFrame((frame) => {
      const entry = entries.get(frame.id);
      if (!entry) return;
      entry.frame = frame;
      if (frame.targetExited && entry.info.state !== 'ended') {
        probes.remove(frame.id);
        end(entry, `process ${entry.info.pid} exited: the probe was detached (its last picture stays until removed)`);
        broadcastList();
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
      onConnect(socket) {
        socket.emit('latency:probes', list());
        for (const entry of entries.values()) sendFrame(socket, entry.frame);
      },
      handlers: {
        'latency:add': (_socket, payload): LatencyAdded => {
          const checked = checkLatencyAdd(payload);
          if (!checked.ok) throw new RequestError(checked.error);
          const { spec, pid, comm } = checked.value;
          const request = JSON.stringify([spec, pid ?? null, comm ?? null]);
          const twin = [...entries.values()].find((e) => e.request === request && e.info.state !== 'ended');
          if (twin) throw new RequestError(`${spec}${pid ? ` (pid ${pid})` : ''} is already live as ${twin.info.id}`);
          const added = probes.add(spec, { ...(pid !== undefined && { pid }), ...(comm !== undefined && { comm }) });
          if (!added.ok) throw new RequestError(added.error);
          const frame = probes.frames().find((f) => f.id === added.id)!;
          entries.set(added.id, {
            info: { id: added.id, spec: added.spec, pid: pid ?? null, comm: comm ?? null, state: 'running', error: null, addedAtMs: now() },
            frame,
            request,
          });
          broadcastList();
          sendToAll(frame);
          return { id: added.id, spec: added.spec };
        },
        'latency:remove': (_socket, payload) => {
          const checked = checkLatencyRemove(payload);
          if (!checked.ok) throw new RequestError(checked.error);
          const { id } = checked.value;
          if (!entries.has(id)) throw new RequestError(`no latency probe ${id} (already removed?)`);
          probes.remove(id); // false for an ended probe: already detached
          forget(id);
          broadcastList();
          return undefined;
        },
      },
      async close() {
        stopFrames();
        stopEnds();
        probes.close();
        entries.clear();
      },
    };
  };
}
