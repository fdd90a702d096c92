/**
 * Sessions, viewer links and follow mode as a hub-level feature: `session:state`,
 * `session:list`, `session:create`, `session:close`, `link:create`, `link:revoke`, `follow:set`.
 *
 * Guarantees:
 * - Viewers may ask only for `session:state` (their own session's, without the link list);
 *   everything else needs an operator (the hub refuses it before a handler runs).
 * - `main` cannot be closed; at most `maxSessions` sessions exist at once.
 * - Creating a link sends operators a delta (`link:added`), never the whole list, so its cost
 *   does not grow with the number of links; a revoked link's viewers are disconnected at once.
 * - Follow mode is relayed, never rendered: `follow:set` stores the presenter's view for late
 *   joiners and sends it to everyone else in the room (`follow:view`).
 */
import { MAIN_SESSION, type SessionSummary } from '../../../lib/protocol-session.ts';
import { RequestError } from '../feature.ts';
import { createLink, linkInfo, newSessionId, revokeLink, sessionIdProblem } from '../sessions.ts';
import type { HubLevelFeatureFactory } from './feature.ts';

export const sessionsFeature: HubLevelFeatureFactory = (hub) => {
  const { registry } = hub;
  return {
    viewerEvents: ['session:state'],
    handlers: {
      'session:state': (socket, session) => registry.stateFor(session, hub.roleOf(socket), true),
      'session:list': (): SessionSummary[] =>
        registry.all().map((s) => ({
          id: s.id,
          name: s.name,
          createdAtMs: s.createdAtMs,
          connections: [...registry.socketsOf(s)].length,
          recording: s.recording !== null,
          replay: s.replay !== null,
        })),
      'session:create': (_socket, _session, payload) => {
        if (!hub.canCreateSessions) throw new RequestError('this server runs a single session');
        if (registry.size >= hub.maxSessions) throw new RequestError(`at most ${hub.maxSessions} sessions at once: close one first`);
        const { name } = payload;
        let id = newSessionId();
        while (registry.has(id)) id = newSessionId();
        const created = registry.open(id, name);
        return { id: created.id, name: created.name, path: `/?session=${encodeURIComponent(created.id)}` };
      },
      'session:close': async (_socket, _session, payload) => {
        const { id } = payload;
        const problem = sessionIdProblem(id);
        if (problem) throw new RequestError(problem);
        const target = registry.get(id);
        if (!target) throw new RequestError(`no session ${id}`);
        if (target.id === MAIN_SESSION) throw new RequestError('the main session cannot be closed (stop its probes instead)');
        await registry.close(target, 'an operator closed this session');
        return undefined;
      },
      'link:create': (_socket, session, payload) => {
        registry.dropExpiredLinks(session);
        const created = createLink(session, payload, hub.now());
        // A delta, not the whole state: its cost does not grow with the number of links.
        registry.toOperators(session, 'link:added', linkInfo(created));
        return created;
      },
      'link:revoke': (_socket, session, payload) => {
        const revoked = revokeLink(session, payload.id);
        registry.linksRemoved(session, [{ id: revoked.id, reason: 'revoked' }]);
        return revoked;
      },
      'follow:set': (socket, session, payload) => {
        session.follow = payload;
        // Everyone but the presenter applies it (the presenter already shows it).
        socket.to(session.room).emit('follow:view', payload);
        return undefined;
      },
    },
  };
};
