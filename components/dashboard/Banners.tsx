'use client';
/** Page-level messages: protocol mismatch, refused access, sampling errors, refused requests. */
import type { ConnectionState, Notice } from '../session/useProfileSession.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';

export function Banners({
  connection,
  connectionError,
  protocolMismatch,
  statusError,
  notices,
  onDismiss,
}: {
  connection: ConnectionState;
  connectionError: string | null;
  protocolMismatch: string | null;
  statusError: string | null;
  notices: Notice[];
  onDismiss(id: number): void;
}) {
  return (
    <div className="flex flex-col gap-2 empty:hidden">
      {protocolMismatch && (
        <div role="alert" data-testid={TEST_IDS.protocolBanner} className="rounded-md border border-rose-500/60 bg-rose-950/60 px-4 py-2 text-sm text-rose-100">
          <strong className="font-semibold">Incompatible server. </strong>
          {protocolMismatch}
        </div>
      )}
      {connection === 'refused' && (
        <div role="alert" className="rounded-md border border-rose-500/60 bg-rose-950/60 px-4 py-2 text-sm text-rose-100">
          <strong className="font-semibold">The server refused this page’s connection</strong>
          {connectionError ? ` (${connectionError})` : ''}. If the dashboard was started with a token, open the URL it
          printed, which ends in <code className="font-mono">?token=…</code>.
        </div>
      )}
      {statusError && (
        <div role="alert" data-testid={TEST_IDS.statusError} className="rounded-md border border-amber-500/60 bg-amber-950/50 px-4 py-2 text-sm text-amber-100">
          <strong className="font-semibold">Sampling is not working: </strong>
          <span className="whitespace-pre-wrap">{statusError}</span>
        </div>
      )}
      {notices.length > 0 && (
        <ul data-testid={TEST_IDS.notices} className="flex flex-col gap-1">
          {notices.map((n) => (
            <li
              key={n.id}
              data-testid={TEST_IDS.notice}
              className="flex items-start justify-between gap-3 rounded-md border border-slate-600 bg-slate-800 px-3 py-1.5 text-sm text-slate-100"
            >
              <span>
                <span className="font-mono text-xs text-slate-400">{n.event}</span> {n.message}
              </span>
              <button
                type="button"
                aria-label="Dismiss"
                data-testid={TEST_IDS.noticeDismiss}
                onClick={() => onDismiss(n.id)}
                className="text-slate-400 hover:text-slate-100"
              >
                ✕
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
