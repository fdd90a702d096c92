'use client';
import type { ConnectionState } from '../session/useProfileSession.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';

const LOOK: Record<ConnectionState, { label: string; dot: string; text: string }> = {
  connecting: { label: 'Connecting…', dot: 'bg-slate-400 animate-pulse', text: 'text-slate-300' },
  connected: { label: 'Connected', dot: 'bg-emerald-400', text: 'text-emerald-300' },
  reconnecting: { label: 'Reconnecting…', dot: 'bg-amber-400 animate-pulse', text: 'text-amber-300' },
  refused: { label: 'Access refused', dot: 'bg-rose-500', text: 'text-rose-300' },
  closed: { label: 'Session ended', dot: 'bg-rose-500', text: 'text-rose-300' },
  disconnected: { label: 'Disconnected', dot: 'bg-rose-500', text: 'text-rose-300' },
};

export function ConnectionBadge({ state, detail }: { state: ConnectionState; detail: string | null }) {
  const look = LOOK[state];
  return (
    <span
      data-testid={TEST_IDS.connectionState}
      data-state={state}
      title={detail ?? undefined}
      className={`inline-flex items-center gap-2 rounded-full border border-slate-700 bg-slate-900 px-3 py-1 text-xs ${look.text}`}
    >
      <span className={`h-2 w-2 rounded-full ${look.dot}`} aria-hidden />
      {look.label}
    </span>
  );
}
