'use client';
/**
 * useDiscovery: asks the server a `discover:*` question (lib/protocol-events.ts) when the
 * payload changes, debounced as the user types; answers to outdated questions are ignored.
 */
import { useEffect, useRef, useState } from 'react';
import type { DiscoveryList } from '../../lib/protocol-events.ts';
import type { RequestName, RequestPayload } from '../../lib/protocol.ts';
import type { ProfileSession } from '../session/useProfileSession.ts';

/** The discovery requests (lib/schema/messages.ts). */
export type DiscoverName = Extract<RequestName, `discover:${string}`>;

export interface Discovery<T> {
  result: DiscoveryList<T> | null;
  error: string | null;
  loading: boolean;
}

/** `T`: the item type of the answer (the one `event`'s reply lists). */
export function useDiscovery<T, E extends DiscoverName = DiscoverName>(send: ProfileSession['send'], event: E, payload: RequestPayload<E> | null, delayMs = 200): Discovery<T> {
  const [state, setState] = useState<Discovery<T>>({ result: null, error: null, loading: false });
  const asked = useRef(0);
  const key = payload === null ? null : JSON.stringify(payload);

  useEffect(() => {
    const id = ++asked.current;
    if (key === null) {
      setState({ result: null, error: null, loading: false });
      return;
    }
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(() => {
      void send(event, JSON.parse(key) as RequestPayload<E>).then((reply) => {
        if (id !== asked.current) return; // a newer question is under way
        // The reply lists `event`'s items; T names them for the caller.
        const result = (reply.ok ? (reply.value ?? { items: [], total: 0 }) : null) as DiscoveryList<T> | null;
        setState(reply.ok ? { result, error: null, loading: false } : { result: null, error: reply.error, loading: false });
      });
    }, delayMs);
    return () => clearTimeout(timer);
  }, [send, event, key, delayMs]);

  return state;
}

/** What the user typed as a glob: as is when it has glob characters, else "contains". */
export function globOf(text: string): string | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  return /[*?[]/.test(t) ? t : `*${t}*`;
}
