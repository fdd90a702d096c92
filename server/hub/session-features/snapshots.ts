/**
 * Snapshots as a hub-level feature: `snapshot:pin`, `snapshots:list`, `snapshot:get`,
 * `snapshot:delete`.
 *
 * Guarantees:
 * - A snapshot is the session's current picture as its features export it (`exports.flame` for
 *   a view, `exports.latency` for a probe), stored under a name in the recordings database.
 * - Viewers may list and read snapshots, but only their own session's (an operator sees all);
 *   another session's snapshot is "no snapshot" to a viewer, exactly like a missing one.
 *   Pinning and deleting need an operator.
 */
import { DEFAULT_VIEW } from '../../../lib/protocol.ts';
import { RequestError } from '../feature.ts';
import type { HubLevelFeatureFactory } from './feature.ts';

export const snapshotsFeature: HubLevelFeatureFactory = (hub) => ({
  viewerEvents: ['snapshots:list', 'snapshot:get'],
  handlers: {
    'snapshot:pin': (_socket, session, payload) => {
      const request = payload;
      let data: unknown;
      if (request.kind === 'flame') {
        const view = request.view ?? DEFAULT_VIEW;
        const source = session.features.find((f) => f.exports?.flame)?.exports?.flame;
        if (!source) throw new RequestError('this session has no flame graph');
        data = { view, ...source(view) };
      } else {
        let frame = null;
        for (const feature of session.features) frame ??= feature.exports?.latency?.(request.probe) ?? null;
        if (!frame) throw new RequestError(`no latency probe ${request.probe.slice(0, 40)} in this session`);
        data = frame;
      }
      try {
        return hub.store().pinSnapshot({ sessionId: session.id, name: request.name, kind: request.kind, takenAtMs: hub.now(), payload: data });
      } catch (error) {
        throw new RequestError((error as Error).message);
      }
    },
    'snapshots:list': (socket, session) =>
      // Viewers see their own session's snapshots; operators see all.
      hub.store().listSnapshots(hub.roleOf(socket) === 'operator' ? undefined : session.id),
    'snapshot:get': (socket, session, payload) => {
      const { id } = payload;
      const found = hub.store().getSnapshot(id);
      if (!found || (hub.roleOf(socket) !== 'operator' && found.info.sessionId !== session.id)) {
        throw new RequestError(`no snapshot ${id.slice(0, 40)}`);
      }
      return found;
    },
    'snapshot:delete': (_socket, _session, payload) => {
      const { id } = payload;
      hub.store().deleteSnapshot(id);
      return undefined;
    },
  },
});
