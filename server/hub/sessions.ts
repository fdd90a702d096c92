/**
 * Sessions and viewer links: who may join which session, with which role.
 *
 * Guarantees:
 * - Secrets (the operator token, viewer link tokens) are compared in constant time: a link token
 *   is `<id>.<secret>`; the id is looked up, then the secret is compared with timingSafeEqual.
 * - Link secrets are 144 random bits (base64url). A revoked or expired link authorises nothing
 *   from that moment; `expiredLinks()` lets the hub disconnect its connections.
 * - Nothing here knows socket.io; the hub (server/hub/index.ts) owns connections.
 */
import { randomBytes } from 'node:crypto';
import {
  MAIN_SESSION,
  MAX_LINK_LABEL,
  MAX_LINK_MINUTES,
  MAX_SESSION_NAME,
  SESSION_ID_PATTERN,
  type Role,
  type ViewerLinkCreated,
  type ViewerLinkInfo,
} from '../../lib/protocol-session.ts';
import { tokenMatches } from '../http/security.ts';
import { checkText } from '../../lib/validate-session.ts';

/** Bytes of randomness in a viewer link secret (144 bits). */
const LINK_SECRET_BYTES = 18;

interface ViewerLink extends ViewerLinkInfo {
  secret: string;
}

export class SessionInputError extends Error {}

export interface SessionRecord {
  id: string;
  name: string;
  createdAtMs: number;
  links: Map<string, ViewerLink>;
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

/** A session name: 1-80 printable characters after trimming (lib/validate-session.ts checkText). */
export function checkSessionName(name: unknown): string {
  const checked = checkText(name, 'session name (name)', { min: 1, max: MAX_SESSION_NAME });
  if (!checked.ok) throw new SessionInputError(checked.error);
  return checked.value;
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
  return { id, name, createdAtMs: nowMs, links: new Map() };
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
    if (!link) return { ok: false, error: `unauthorized: this viewer link is not valid for session ${session.id}` };
    if (link.revoked) return { ok: false, error: 'unauthorized: this viewer link was revoked' };
    if (link.expiresAtMs <= nowMs) return { ok: false, error: 'unauthorized: this viewer link has expired' };
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

export function createLink(session: SessionRecord, request: { label?: unknown; minutes?: unknown }, nowMs: number): ViewerLinkCreated {
  const minutes = request.minutes ?? 60;
  if (typeof minutes !== 'number' || !Number.isFinite(minutes) || minutes <= 0 || minutes > MAX_LINK_MINUTES) {
    throw new SessionInputError(`link lifetime (minutes) must be a number of minutes, more than 0 and at most ${MAX_LINK_MINUTES}, got ${JSON.stringify(minutes)}`);
  }
  const checkedLabel = checkText(request.label ?? '', 'link label (label)', { min: 0, max: MAX_LINK_LABEL });
  if (!checkedLabel.ok) throw new SessionInputError(checkedLabel.error);
  const label = checkedLabel.value;
  const id = urlSafeId(6);
  const secret = randomBytes(LINK_SECRET_BYTES).toString('base64url');
  const link: ViewerLink = { id, label, createdAtMs: nowMs, expiresAtMs: nowMs + Math.round(minutes * 60_000), revoked: false, secret };
  session.links.set(id, link);
  const token = `${id}.${secret}`;
  const query = new URLSearchParams({ session: session.id, view: token });
  return { ...linkInfo(link), token, path: `/?${query.toString()}` };
}

export function revokeLink(session: SessionRecord, id: unknown): ViewerLinkInfo {
  const link = typeof id === 'string' ? session.links.get(id) : undefined;
  if (!link) throw new SessionInputError(`no viewer link ${JSON.stringify(String(id).slice(0, 40))} in session ${session.id}`);
  link.revoked = true;
  return linkInfo(link);
}

export function linkInfo(link: ViewerLinkInfo): ViewerLinkInfo {
  return { id: link.id, label: link.label, createdAtMs: link.createdAtMs, expiresAtMs: link.expiresAtMs, revoked: link.revoked };
}

/** Ids of links that no longer authorise anything (revoked or expired). */
export function deadLinks(session: SessionRecord, nowMs: number): Set<string> {
  const dead = new Set<string>();
  for (const link of session.links.values()) if (link.revoked || link.expiresAtMs <= nowMs) dead.add(link.id);
  return dead;
}

export { MAIN_SESSION };
