/**
 * Sessions and viewer links: who may join which session, with which role.
 *
 * Guarantees:
 * - Secrets (the operator token, viewer link tokens) are compared in constant time: a link token
 *   is `<id>.<secret>`; the id is looked up, then the secret is compared with timingSafeEqual.
 * - Link secrets are 144 random bits (base64url). A revoked or expired link authorises nothing
 *   from that moment; `expireLinks()` lets the hub disconnect its connections.
 * - Bounded: at most MAX_LIVE_LINKS live links per session (more are refused with the reason);
 *   a revoked or expired link leaves the list at once (revoke) or at the hub's next sweep
 *   (expiry) and is kept only as a tombstone (id, secret, why) so that it is refused with the
 *   right reason; at most MAX_RETIRED_LINKS tombstones, the oldest forgotten first.
 * - Nothing here knows socket.io; the hub (server/hub/index.ts) owns connections.
 */
import { randomBytes } from 'node:crypto';
import {
  MAIN_SESSION,
  MAX_LIVE_LINKS,
  SESSION_ID_PATTERN,
  type Role,
  type ViewerLinkCreated,
  type ViewerLinkInfo,
  type ViewerLinkRemoved,
} from '../../lib/protocol-session.ts';
import { tokenMatches } from '../http/security.ts';

/** Bytes of randomness in a viewer link secret (144 bits). */
const LINK_SECRET_BYTES = 18;

interface ViewerLink extends ViewerLinkInfo {
  secret: string;
}

/** What is kept of a link that no longer authorises anything: enough to say why. */
interface RetiredLink {
  secret: string;
  reason: ViewerLinkRemoved['reason'];
}

/** Tombstones kept per session (about 100 bytes each); older ones are then "not valid". */
export const MAX_RETIRED_LINKS = 1000;

export class SessionInputError extends Error {}

export interface SessionRecord {
  id: string;
  name: string;
  createdAtMs: number;
  /** Links not revoked, in creation order (an expired one stays until expireLinks()). */
  links: Map<string, ViewerLink>;
  /** Tombstones of revoked and expired links, oldest first (at most MAX_RETIRED_LINKS). */
  retired: Map<string, RetiredLink>;
}

export interface Credentials {
  /** The operator token, if the client presented one. */
  token?: unknown;
  /** A viewer link token (`<id>.<secret>`), if presented. */
  view?: unknown;
}

export type Admission = { ok: true; role: Role; linkId: string | null } | { ok: false; error: string };

/** Checks a session id from a client: a clear reason, or null when acceptable. */
export function sessionIdProblem(id: unknown): string | null {
  if (typeof id !== 'string' || !SESSION_ID_PATTERN.test(id)) {
    return `session id must be 1-32 letters, digits, - or _, got ${JSON.stringify(String(id).slice(0, 40))}`;
  }
  return null;
}

/** A new session id: 8 url-safe random characters (not guessable, short enough to read out). */
export function newSessionId(): string {
  return urlSafeId(6);
}

/** `bytes` random bytes, base64url, never starting with `-` (ids also appear on command lines). */
function urlSafeId(bytes: number): string {
  const id = randomBytes(bytes).toString('base64url');
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

export function newSessionRecord(id: string, name: string, nowMs: number): SessionRecord {
  return { id, name, createdAtMs: nowMs, links: new Map(), retired: new Map() };
}

/**
 * Decides a connection's role in `session`. `operatorToken` null means the server runs
 * without auth (loopback only): everyone is an operator.
 */
export function admit(session: SessionRecord, operatorToken: string | null, given: Credentials, nowMs: number): Admission {
  if (operatorToken === null) return { ok: true, role: 'operator', linkId: null };
  if (given.token !== undefined && given.token !== null && given.token !== '' && tokenMatches(operatorToken, given.token)) {
    return { ok: true, role: 'operator', linkId: null };
  }
  if (typeof given.view === 'string' && given.view.length > 0) {
    const link = findLink(session, given.view);
    const reason = link ? (link.revoked ? 'revoked' : link.expiresAtMs <= nowMs ? 'expired' : null) : retiredReason(session, given.view);
    if (reason === 'revoked') return { ok: false, error: 'unauthorized: this viewer link was revoked' };
    if (reason === 'expired') return { ok: false, error: 'unauthorized: this viewer link has expired' };
    if (!link) return { ok: false, error: `unauthorized: this viewer link is not valid for session ${session.id}` };
    return { ok: true, role: 'viewer', linkId: link.id };
  }
  return { ok: false, error: 'unauthorized: this server requires a token (open the URL with ?token=…) or a viewer link' };
}

function findLink(session: SessionRecord, presented: string): ViewerLink | null {
  const dot = presented.indexOf('.');
  if (dot <= 0) return null;
  const link = session.links.get(presented.slice(0, dot));
  if (!link) return null;
  return tokenMatches(link.secret, presented.slice(dot + 1)) ? link : null;
}

/** Why a presented token of a retired link no longer works (secret checked too), or null. */
function retiredReason(session: SessionRecord, presented: string): RetiredLink['reason'] | null {
  const dot = presented.indexOf('.');
  if (dot <= 0) return null;
  const retired = session.retired.get(presented.slice(0, dot));
  return retired && tokenMatches(retired.secret, presented.slice(dot + 1)) ? retired.reason : null;
}

/** Moves a link from the list to the tombstones (the oldest tombstones go beyond the cap). */
function retire(session: SessionRecord, link: ViewerLink, reason: RetiredLink['reason']): void {
  session.links.delete(link.id);
  session.retired.set(link.id, { secret: link.secret, reason });
  for (const oldest of session.retired.keys()) {
    if (session.retired.size <= MAX_RETIRED_LINKS) break;
    session.retired.delete(oldest);
  }
}

/** A new viewer link; `request` as checked by lib/schema/session.ts LinkCreateRequestSchema (label trimmed, minutes in range). */
export function createLink(session: SessionRecord, request: { label?: string; minutes?: number }, nowMs: number): ViewerLinkCreated {
  const minutes = request.minutes ?? 60;
  const label = request.label ?? '';
  // Expired links still listed count: the caller takes them out first (expireLinks) to announce them.
  if (session.links.size >= MAX_LIVE_LINKS) {
    throw new SessionInputError(`session ${session.id} already has ${MAX_LIVE_LINKS} live viewer links, the most it keeps: revoke some or wait for them to expire`);
  }
  let id = urlSafeId(6);
  while (session.links.has(id) || session.retired.has(id)) id = urlSafeId(6);
  const secret = randomBytes(LINK_SECRET_BYTES).toString('base64url');
  const link: ViewerLink = { id, label, createdAtMs: nowMs, expiresAtMs: nowMs + Math.round(minutes * 60_000), revoked: false, secret };
  session.links.set(id, link);
  const token = `${id}.${secret}`;
  const query = new URLSearchParams({ session: session.id, view: token });
  return { ...linkInfo(link), token, path: `/?${query.toString()}` };
}

/** Revokes a live link: it leaves the list at once. Returns it as it was, marked revoked. */
export function revokeLink(session: SessionRecord, id: string): ViewerLinkInfo {
  const link = session.links.get(id);
  if (!link) {
    const retired = session.retired.get(id);
    if (retired) throw new SessionInputError(`viewer link ${id} was already ${retired.reason === 'revoked' ? 'revoked' : 'expired'}`);
    throw new SessionInputError(`no viewer link ${JSON.stringify(id.slice(0, 40))} in session ${session.id}`);
  }
  retire(session, link, 'revoked');
  return { ...linkInfo(link), revoked: true };
}

export function linkInfo(link: ViewerLinkInfo): ViewerLinkInfo {
  return { id: link.id, label: link.label, createdAtMs: link.createdAtMs, expiresAtMs: link.expiresAtMs, revoked: link.revoked };
}

/** Takes the links that have expired by `nowMs` out of the list; returns their ids. O(live links). */
export function expireLinks(session: SessionRecord, nowMs: number): string[] {
  const expired: string[] = [];
  // Deleting the entry being visited is safe while iterating a Map.
  for (const link of session.links.values()) {
    if (link.expiresAtMs > nowMs) continue;
    retire(session, link, 'expired');
    expired.push(link.id);
  }
  return expired;
}

export { MAIN_SESSION };
