/**
 * The access token (`probeboard serve --token T`). It arrives once in the page URL
 * (`?token=T`); we keep it in sessionStorage for the socket.io handshake and drop it from
 * the address bar so it does not end up in history or screenshots. (Reloads of the page
 * itself are authorised by the cookie the server sets.)
 */
const KEY = 'probeboard.token';

export function takeToken(): string | null {
  if (typeof window === 'undefined') return null;
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    try {
      window.sessionStorage.setItem(KEY, fromUrl);
    } catch {
      // storage disabled: the cookie still authorises this tab's page loads
    }
    url.searchParams.delete('token');
    window.history.replaceState(window.history.state, '', url.pathname + url.search + url.hash);
    return fromUrl;
  }
  try {
    return window.sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}
