/**
 * The operator's list of viewer links as the page keeps it: the full list arrives in
 * `session:state.links` when the page joins; afterwards the server sends only deltas,
 * `link:added` (a ViewerLinkInfo) and `link:removed` ({ id, reason }). A removed link stays in
 * the page's list, marked revoked or expired, so the operator sees what happened to it; at most
 * MAX_DEAD_SHOWN of those are kept (the oldest go first). Pure: the hook holds the state.
 * Payloads come from the network: malformed ones leave the list unchanged.
 */
import type { ViewerLinkInfo, ViewerLinkRemoved } from '../../lib/protocol-session.ts';

/** Revoked or expired links still shown, newest kept. */
export const MAX_DEAD_SHOWN = 20;

function isLinkInfo(value: unknown): value is ViewerLinkInfo {
  const v = value as Partial<ViewerLinkInfo> | null;
  return (
    typeof v === 'object' && v !== null && typeof v.id === 'string' && typeof v.label === 'string' &&
    typeof v.createdAtMs === 'number' && typeof v.expiresAtMs === 'number' && typeof v.revoked === 'boolean'
  );
}

const dead = (link: ViewerLinkInfo, nowMs: number) => link.revoked || link.expiresAtMs <= nowMs;

/** Drops the oldest dead links beyond MAX_DEAD_SHOWN; keeps the order. */
function boundDead(links: ViewerLinkInfo[], nowMs: number): ViewerLinkInfo[] {
  const deadCount = links.filter((l) => dead(l, nowMs)).length;
  let drop = deadCount - MAX_DEAD_SHOWN;
  if (drop <= 0) return links;
  return links.filter((l) => !(dead(l, nowMs) && drop-- > 0));
}

/** `session:state.links` (a full list): the server's live links, plus the dead ones this page still shows. */
export function replaceLinks(current: ViewerLinkInfo[], full: unknown, nowMs: number): ViewerLinkInfo[] {
  if (!Array.isArray(full)) return current;
  const live = full.filter(isLinkInfo);
  const ids = new Set(live.map((l) => l.id));
  const stillShown = current.filter((l) => dead(l, nowMs) && !ids.has(l.id));
  return boundDead([...stillShown, ...live].sort((a, b) => a.createdAtMs - b.createdAtMs), nowMs);
}

/** `link:added`. */
export function addLink(current: ViewerLinkInfo[], link: unknown): ViewerLinkInfo[] {
  if (!isLinkInfo(link) || current.some((l) => l.id === link.id)) return current;
  return [...current, link];
}

/** `link:removed`: the link stays listed, marked revoked (or expired: its expiry is moved to now at the latest). */
export function removeLink(current: ViewerLinkInfo[], removed: unknown, nowMs: number): ViewerLinkInfo[] {
  const r = removed as Partial<ViewerLinkRemoved> | null;
  if (typeof r !== 'object' || r === null || typeof r.id !== 'string') return current;
  const at = current.findIndex((l) => l.id === r.id);
  if (at < 0) return current;
  const link = current[at];
  const marked = r.reason === 'revoked' ? { ...link, revoked: true } : { ...link, expiresAtMs: Math.min(link.expiresAtMs, nowMs) };
  return boundDead([...current.slice(0, at), marked, ...current.slice(at + 1)], nowMs);
}
