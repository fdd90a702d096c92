'use client';
/**
 * useEventProbes: the shared event probes (lib/protocol-events.ts) over the dashboard's one
 * connection (useProfileSession's subscribe/send). Rows go into a ring per probe (the newest
 * CLIENT_ROWS) outside React state; each batch is acknowledged as soon as its rows are in the
 * ring, and the view is told at most once per animation frame (`version`), so thousands of
 * rows a second cost a few renders a second.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EventBatch, EventProbeList, EventsAdded } from '../../lib/protocol-events.ts';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { RowRing, toShown } from './rows.ts';

/** Seconds of rate history kept for the chart. */
export const RATE_HISTORY_S = 60;

export interface ProbeLive {
  ring: RowRing;
  /** Rows the server did not send this viewer (it was behind), since the page loaded. */
  skipped: number;
  perSecond: number;
  total: number;
  lost: number;
  dropped: number;
  /** (ms since epoch, events/s), oldest first, the last RATE_HISTORY_S seconds. */
  history: { t: number; v: number }[];
  batches: number;
}

export interface EventProbes {
  list: EventProbeList | null;
  /** Live state per probe id (mutated in place; re-read when `version` changes). */
  live: Map<string, ProbeLive>;
  /** Bumped (at most once per frame) when rows or counts changed. */
  version: number;
  add(spec: string, pid?: number): Promise<string | null>;
  remove(id: string): Promise<string | null>;
}

function isList(value: unknown): value is EventProbeList {
  return typeof value === 'object' && value !== null && Array.isArray((value as EventProbeList).probes);
}

function isBatch(value: unknown): value is EventBatch {
  return typeof value === 'object' && value !== null && typeof (value as EventBatch).id === 'string' && Array.isArray((value as EventBatch).rows);
}

export function useEventProbes(session: Pick<ProfileSession, 'subscribe' | 'send'>): EventProbes {
  const { subscribe, send } = session;
  const [list, setList] = useState<EventProbeList | null>(null);
  const [version, setVersion] = useState(0);
  const live = useRef(new Map<string, ProbeLive>());
  const frame = useRef<number | null>(null);

  useEffect(() => {
    const bump = () => {
      if (frame.current !== null) return;
      const run = () => {
        frame.current = null;
        setVersion((v) => v + 1);
      };
      frame.current = typeof requestAnimationFrame === 'function' ? requestAnimationFrame(run) : (setTimeout(run, 16) as unknown as number);
    };
    const offList = subscribe('events:probes', (value) => {
      if (!isList(value)) return;
      setList(value);
      const ids = new Set(value.probes.map((p) => p.id));
      for (const id of [...live.current.keys()]) if (!ids.has(id)) live.current.delete(id);
      bump();
    });
    const offBatch = subscribe('events:batch', (value, ack) => {
      try {
        if (!isBatch(value)) return;
        let probe = live.current.get(value.id);
        if (!probe) {
          probe = { ring: new RowRing(), skipped: 0, perSecond: 0, total: 0, lost: 0, dropped: 0, history: [], batches: 0 };
          live.current.set(value.id, probe);
        }
        for (const row of value.rows) probe.ring.push(toShown(row));
        probe.skipped += value.skipped;
        probe.perSecond = value.perSecond;
        probe.total = value.total;
        probe.lost = value.lost;
        probe.dropped = value.dropped;
        probe.batches++;
        const now = Date.now();
        const last = probe.history.at(-1);
        if (!last || now - last.t >= 500) probe.history.push({ t: now, v: value.perSecond });
        while (probe.history.length > 0 && probe.history[0].t < now - RATE_HISTORY_S * 1000) probe.history.shift();
        bump();
      } finally {
        if (typeof ack === 'function') (ack as () => void)();
      }
    });
    return () => {
      offList();
      offBatch();
      if (frame.current !== null && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(frame.current);
      frame.current = null;
    };
  }, [subscribe]);

  const add = useCallback(
    async (spec: string, pid?: number) => {
      const reply = await send('events:add', pid === undefined ? { spec } : { spec, pid });
      return reply.ok ? null : reply.error;
    },
    [send],
  );

  const remove = useCallback(
    async (id: string) => {
      const reply = await send('events:remove', { id });
      return reply.ok ? null : reply.error;
    },
    [send],
  );

  return { list, live: live.current, version, add, remove };
}
