/**
 * What the page presents to the server, taken from its URL once:
 * - the access token (`probeboard serve --token T`, `?token=T`): an operator;
 * - a viewer link (`?view=<id>.<secret>`, made by an operator): a read-only viewer;
 * - the session (`?session=ID`, default `main`).
 *
 * The token and the viewer link are secrets: they are kept in sessionStorage for the socket.io
 * handshake and dropped from the address bar, so they do not end up in history or screenshots.
 * (Reloads of the page itself are authorised by the HttpOnly cookies the server sets.) The
 * session id stays in the URL: it is the session's address.
 */
import { MAIN_SESSION, SESSION_ID_PATTERN } from '../../lib/protocol-session.ts';

const TOKEN_KEY = 'probeboard.token';
const VIEW_KEY = 'probeboard.view';

export interface Credentials {
  token: string | null;
  view: string | null;
  /** The session to join (from `?session=`, else `main`). */
  session: string;
}

function store(key: string, value: string): void {
  try {
    window.sessionStorage.setItem(key, value);
  } catch {
    // storage disabled: the cookie still authorises this tab's page loads
  }
}

function stored(key: string): string | null {
  try {
    return window.sessionStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Reads (and removes from the address bar) the token and viewer link; reads the session. */
export function takeCredentials(): Credentials {
  if (typeof window === 'undefined') return { token: null, view: null, session: MAIN_SESSION };
  const url = new URL(window.location.href);
  let changed = false;
  const take = (param: string, key: string): string | null => {
    const fromUrl = url.searchParams.get(param);
    if (fromUrl) {
      store(key, fromUrl);
      url.searchParams.delete(param);
      changed = true;
      return fromUrl;
    }
    return stored(key);
  };
  const token = take('token', TOKEN_KEY);
  const view = take('view', VIEW_KEY);
  if (changed) window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
  const asked = url.searchParams.get('session');
  // A malformed id is passed on as is: the server's refusal names what is wrong with it.
  const session = asked === null || asked === '' ? MAIN_SESSION : asked;
  return { token, view, session };
}

/** The token alone (kept for callers that only need it). */
export function takeToken(): string | null {
  return takeCredentials().token;
}

/** True when `id` can be a session id (letters, digits, - and _). */
export function isSessionId(id: string): boolean {
  return SESSION_ID_PATTERN.test(id);
}
