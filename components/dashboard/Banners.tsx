'use client';
/** Page-level messages: protocol mismatch, refused access, sampling errors, refused requests. */
import type { ConnectionState, Notice, SessionClosed } from '../session/useProfileSession.ts';
import { SESSION_TEST_IDS, TEST_IDS } from '../../lib/test-ids.ts';

export function Banners({
  connection,
  connectionError,
  closed,
  isViewer,
  protocolMismatch,
  statusError,
  notices,
  onDismiss,
}: {
  connection: ConnectionState;
  connectionError: string | null;
  /** The server ended this page's session (revoked link, closed session…). */
  closed: SessionClosed | null;
  /** This page joined with a viewer link. */
  isViewer: boolean;
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
      {closed && (
        <div
          role="alert"
          data-testid={SESSION_TEST_IDS.closed}
          className="rounded-lg border-2 border-rose-500/80 bg-rose-950/80 px-5 py-4 text-rose-50"
        >
          <strong className="block text-base font-semibold">This session has ended for this page</strong>
          <span className="text-sm">
            {closed.reason.charAt(0).toUpperCase() + closed.reason.slice(1)}. What is on screen is the last picture received;
            nothing updates any more.{' '}
            {isViewer ? 'Ask the presenter for a new viewer link.' : 'Reload the page to join again.'}
          </span>
        </div>
      )}
      {connection === 'reconnecting' && (
        <div role="status" data-testid={SESSION_TEST_IDS.reconnecting} className="rounded-md border border-amber-500/60 bg-amber-950/50 px-4 py-2 text-sm text-amber-100">
          <strong className="font-semibold">Connection lost: reconnecting…</strong>
          {connectionError ? ` (${connectionError})` : ''} The page carries on by itself once the server answers; no reload needed.
        </div>
      )}
      {connection === 'refused' && (
        <div role="alert" data-testid={SESSION_TEST_IDS.closed} className="rounded-md border border-rose-500/60 bg-rose-950/60 px-4 py-2 text-sm text-rose-100">
          <strong className="font-semibold">The server refused this page’s connection</strong>
          {connectionError ? ` (${connectionError})` : ''}.{' '}
          {isViewer || /viewer link/.test(connectionError ?? '') ? (
            'Ask the presenter for a new viewer link.'
          ) : (
            <>
              If the dashboard was started with a token, open the URL it printed, which ends in{' '}
              <code className="font-mono">?token=…</code>.
            </>
          )}
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
