'use client';
/**
 * useLatencyProbes: the shared latency probes (lib/protocol-latency.ts) over the dashboard's
 * one connection (useProfileSession's subscribe/send). Every viewer sees the same probes; each
 * probe's frames are flow-controlled, so each is acknowledged as soon as it is in state.
 */
import { useCallback, useEffect, useState } from 'react';
import type { LatencyAdded, LatencyFrameMessage, LatencyProbeList } from '../../lib/protocol-latency.ts';
import type { ProfileSession } from './useProfileSession.ts';

export interface LatencyProbes {
  /** The server's list (null until it arrived). */
  list: LatencyProbeList | null;
  /** Newest frame per probe id. */
  frames: Record<string, LatencyFrameMessage>;
  /** Adds a probe for everyone; resolves to the server's refusal, or null once added. */
  add(spec: string, filters: { pid?: number; comm?: string }): Promise<string | null>;
  /** Removes a probe for everyone; resolves to the server's refusal, or null. */
  remove(id: string): Promise<string | null>;
}

function isList(value: unknown): value is LatencyProbeList {
  return typeof value === 'object' && value !== null && Array.isArray((value as LatencyProbeList).probes);
}

function isFrame(value: unknown): value is LatencyFrameMessage {
  return typeof value === 'object' && value !== null && typeof (value as LatencyFrameMessage).id === 'string' && Array.isArray((value as LatencyFrameMessage).columns);
}

export function useLatencyProbes(session: Pick<ProfileSession, 'subscribe' | 'send'>): LatencyProbes {
  const { subscribe, send } = session;
  const [list, setList] = useState<LatencyProbeList | null>(null);
  const [frames, setFrames] = useState<Record<string, LatencyFrameMessage>>({});

  useEffect(() => {
    const offList = subscribe('latency:probes', (value) => {
      if (!isList(value)) return;
      setList(value);
      // Forget the frames of probes that are gone.
      const ids = new Set(value.probes.map((p) => p.id));
      setFrames((previous) => {
        const kept = Object.entries(previous).filter(([id]) => ids.has(id));
        return kept.length === Object.keys(previous).length ? previous : Object.fromEntries(kept);
      });
    });
    const offFrame = subscribe('latency:frame', (value, ack) => {
      try {
        if (isFrame(value)) setFrames((previous) => ({ ...previous, [value.id]: value }));
      } finally {
        if (typeof ack === 'function') (ack as () => void)();
      }
    });
    return () => {
      offList();
      offFrame();
    };
  }, [subscribe]);

  const add = useCallback(
    async (spec: string, filters: { pid?: number; comm?: string; subBuckets?: number }) => {
      const reply = await send('latency:add', { spec, ...filters });
      return reply.ok ? null : reply.error;
    },
    [send],
  );

  const remove = useCallback(
    async (id: string) => {
      const reply = await send('latency:remove', { id });
      return reply.ok ? null : reply.error;
    },
    [send],
  );

  return { list, frames, add, remove };
}
