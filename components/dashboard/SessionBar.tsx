'use client';
/**
 * The session bar under the header.
 * - Operators (presenters): session name and id, role badge, how many viewers watch, "Share
 *   viewer link" (components/dashboard/ViewerLinks.tsx) and the sessions menu.
 * - Viewers: session, role badge and the follow toggle: "Following presenter" while the page
 *   copies the presenter's view, "Rejoin presenter" once a local change left follow mode.
 */
import type { RecordingSummary, Role, SessionState } from '../../lib/protocol-session.ts';
import { RECORDING_TEST_IDS, SESSION_TEST_IDS } from '../../lib/test-ids.ts';
import { RecIndicator, RecordControls } from './RecordControls.tsx';
import { RecordingsMenu } from './RecordingsMenu.tsx';
import { buttonClass } from '../controls/Field.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { SessionsMenu } from './SessionsMenu.tsx';
import { ViewerLinks } from './ViewerLinks.tsx';

export function SessionBar({
  role,
  sessionId,
  state,
  send,
  connected,
  following,
  hasPresenter,
  presenterZoom,
  onFollow,
  snapshotsOpen,
  onSnapshots,
  onCompareRecording,
}: {
  role: Role | null;
  sessionId: string;
  state: SessionState | null;
  send: ProfileSession['send'];
  connected: boolean;
  /** Viewers: the page follows the presenter. */
  following: boolean;
  /** A presenter view has arrived. */
  hasPresenter: boolean;
  /** The presenter's zoom (frame names), for the indicator's tooltip and for tests. */
  presenterZoom: readonly string[];
  onFollow(follow: boolean): void;
  snapshotsOpen: boolean;
  /** Shows or hides the snapshots panel. */
  onSnapshots(open: boolean): void;
  /** Opens the window comparison of a recording. */
  onCompareRecording(recording: RecordingSummary): void;
}) {
  const snapshotsButton = (
    <button
      type="button"
      data-testid={RECORDING_TEST_IDS.snapshotsOpen}
      aria-pressed={snapshotsOpen}
      disabled={!connected}
      onClick={() => onSnapshots(!snapshotsOpen)}
      className={buttonClass + ' text-xs'}
    >
      Snapshots
    </button>
  );
  const name = state?.name ?? sessionId;
  const viewers = state?.viewers ?? 0;
  return (
    <div
      data-testid={SESSION_TEST_IDS.bar}
      data-role={role ?? ''}
      className="flex flex-wrap items-center gap-3 border-b border-slate-800 bg-slate-900/70 px-5 py-2 text-sm"
    >
      <span className="text-xs text-slate-400">
        session{' '}
        <span data-testid={SESSION_TEST_IDS.name} data-id={state?.id ?? sessionId} className="font-medium text-slate-100">
          {name}
        </span>
        {name !== (state?.id ?? sessionId) && <span className="ml-1 font-mono text-slate-500">{state?.id ?? sessionId}</span>}
      </span>
      {role && (
        <span
          data-testid={SESSION_TEST_IDS.role}
          data-role={role}
          className={
            'rounded-full border px-2 py-0.5 text-[11px] font-medium uppercase tracking-wide ' +
            (role === 'operator' ? 'border-orange-400/60 text-orange-200' : 'border-sky-400/60 text-sky-200')
          }
          title={role === 'operator' ? 'You control the probes; viewers follow your view.' : 'Read-only viewer link: you watch, the operator controls.'}
        >
          {role === 'operator' ? 'operator · presenting' : 'viewer · read-only'}
        </span>
      )}
      <RecIndicator recording={state?.recording ?? null} />
      {role === 'operator' && (
        <>
          <span data-testid={SESSION_TEST_IDS.watching} data-count={viewers} className={viewers > 0 ? 'text-emerald-300' : 'text-slate-400'}>
            {viewers} watching
          </span>
          {state && state.operators > 1 && <span className="text-xs text-slate-400">{state.operators} operators</span>}
          <div className="ml-auto flex items-center gap-2">
            {state && !state.replay && <RecordControls recording={state.recording} send={send} connected={connected} />}
            <RecordingsMenu send={send} connected={connected} onCompare={onCompareRecording} />
            {snapshotsButton}
            <ViewerLinks links={state?.links ?? []} send={send} connected={connected} />
            <SessionsMenu current={state?.id ?? sessionId} send={send} connected={connected} />
          </div>
        </>
      )}
      {role === 'viewer' && (
        <div className="ml-auto flex items-center gap-2">
          {snapshotsButton}
          {following ? (
            <>
              <span
                data-testid={SESSION_TEST_IDS.follow}
                data-following="true"
                data-presenter-zoom={presenterZoom.join(' › ')}
                className="inline-flex items-center gap-2 rounded-full border border-emerald-500/50 px-3 py-0.5 text-xs text-emerald-200"
                title="Your view copies the presenter's: window, stacks, zoom, search, orientation and the panel in focus"
              >
                <span className="h-2 w-2 animate-pulse rounded-full bg-emerald-400" aria-hidden />
                {hasPresenter ? 'Following presenter' : 'Following presenter (waiting for their view)'}
              </span>
              <button type="button" data-testid={SESSION_TEST_IDS.followStop} onClick={() => onFollow(false)} className={buttonClass + ' text-xs'}>
                Stop following
              </button>
            </>
          ) : (
            <>
              <span
                data-testid={SESSION_TEST_IDS.follow}
                data-following="false"
                data-presenter-zoom={presenterZoom.join(' › ')}
                className="text-xs text-slate-400"
              >
                Your own view
              </span>
              <button
                type="button"
                data-testid={SESSION_TEST_IDS.rejoin}
                onClick={() => onFollow(true)}
                className={buttonClass + ' border-emerald-500/60 text-emerald-100'}
              >
                Rejoin presenter
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}
