/**
 * The HTTP security baseline: which Host and Origin headers are accepted, and the token.
 *
 * Why: the backend runs as root and loads kernel code. A loopback bind alone does not stop a
 * web page on another site from reaching it through DNS rebinding (a foreign name resolving to
 * 127.0.0.1: caught by the Host check) or a cross-site WebSocket (caught by the Origin check).
 */
import type { IncomingMessage } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export const TOKEN_COOKIE = 'pb_token';
/** Cookie that carries a viewer link (`<id>.<secret>`) for the page's own asset requests. */
export const VIEW_COOKIE = 'pb_view';
export const TOKEN_ENV = 'PROBEBOARD_TOKEN';

/** True for 127.0.0.0/8, ::1 and `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost' || bare === '::1') return true;
  return isIP(bare) === 4 && bare.startsWith('127.');
}

/** True for binds that listen on every interface. */
export function isWildcardHost(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

export interface HostPolicy {
  /** Host header values accepted (lower case, with port); null accepts any (wildcard bind). */
  allowedHosts: Set<string> | null;
}

/** Host headers a browser may send to reach this bind. */
export function hostPolicy(bindHost: string, port: number): HostPolicy {
  if (isWildcardHost(bindHost)) return { allowedHosts: null };
  const names = new Set<string>();
  const add = (name: string) => names.add(`${name.toLowerCase()}:${port}`);
  const bracketed = isIP(bindHost) === 6 ? `[${bindHost}]` : bindHost;
  add(bracketed);
  if (isLoopbackHost(bindHost)) {
    add('localhost');
    add('127.0.0.1');
    add('[::1]');
  }
  return { allowedHosts: names };
}

function hostAllowed(policy: HostPolicy, host: string | undefined): boolean {
  if (!host) return false;
  return policy.allowedHosts === null || policy.allowedHosts.has(host.toLowerCase());
}

/** Returns a reason to refuse the request, or null when Host (and Origin, if any) are acceptable. */
export function checkHostAndOrigin(policy: HostPolicy, req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!hostAllowed(policy, host)) {
    return `Host header ${JSON.stringify(host ?? '')} is not this server's address (DNS rebinding protection)`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let originHost: string;
    try {
      const url = new URL(origin);
      originHost = url.port ? url.host : `${url.host}:${url.protocol === 'https:' ? 443 : 80}`;
    } catch {
      return `Origin header ${JSON.stringify(origin)} is not a URL`;
    }
    if (originHost.toLowerCase() !== host!.toLowerCase()) {
      return `cross-origin request from ${origin} refused`;
    }
  } else if (origin === 'null') {
    return 'requests from an opaque origin are refused';
  }
  return null;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    try {
      cookies.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie that is not valid percent-encoding is ignored, not fatal.
    }
  }
  return cookies;
}

/** Where a request may carry the token: `?token=`, the cookie, or `Authorization: Bearer`. */
export function tokenFromRequest(req: IncomingMessage): string | null {
  const url = new URL(req.url ?? '/', 'http://x');
  const query = url.searchParams.get('token');
  if (query) return query;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice(7);
  return parseCookies(req.headers.cookie).get(TOKEN_COOKIE) ?? null;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from timings. */
export function tokenMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A viewer link token from `?view=` or the viewer cookie. */
export function viewTokenFromRequest(req: IncomingMessage): string | null {
  const url = new URL(req.url ?? '/', 'http://x');
  const query = url.searchParams.get('view');
  if (query) return query;
  return parseCookies(req.headers.cookie).get(VIEW_COOKIE) ?? null;
}

/** The session a page or API request names (`?session=`), or null. */
export function sessionFromRequest(req: IncomingMessage): string | null {
  return new URL(req.url ?? '/', 'http://x').searchParams.get('session');
}

export function viewCookie(view: string): string {
  return `${VIEW_COOKIE}=${encodeURIComponent(view)}; Path=/; HttpOnly; SameSite=Strict`;
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
