'use client';
/**
 * The dashboard: header with the connection state, a control bar, and panels. The flame
 * graph is the first panel; latency histograms, heatmaps and event tables will sit beside
 * it in the same grid.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { FollowView } from '../../lib/protocol-session.ts';
import { DEFAULT_VIEW, type ViewSettings } from '../../lib/protocol.ts';
import { SESSION_TEST_IDS, TEST_IDS } from '../../lib/test-ids.ts';
import { SamplingControls } from '../controls/SamplingControls.tsx';
import { ViewControls } from '../controls/ViewControls.tsx';
import { FlamePanel, type ZoomCause } from '../flamegraph/FlamePanel.tsx';
import { samePath, type ZoomStep } from '../flamegraph/zoom.ts';
import { followViewOf, namesOf, pageViewOf, sameFollowView, sameNames, sameViewSettings } from '../session/follow.ts';
import { SessionBar } from './SessionBar.tsx';
import { LatencySection } from '../latency/LatencySection.tsx';
import { EventsSection } from '../events/EventsSection.tsx';
import { useProfileSession } from '../session/useProfileSession.ts';
import { Banners } from './Banners.tsx';
import { ConnectionBadge } from './ConnectionBadge.tsx';
import { ReplayBar } from './ReplayBar.tsx';
import { SnapshotsPanel } from '../snapshots/SnapshotsPanel.tsx';
import { ComparePanel, type CompareSource } from '../snapshots/ComparePanel.tsx';

/** A presenter's view goes out at most this often while it changes. */
const FOLLOW_DEBOUNCE_MS = 100;

export function Dashboard() {
  const session = useProfileSession();
  const { connection, setView, send, presenterView } = session;
  const role = session.role;
  const isViewer = role === 'viewer';
  const [view, setViewState] = useState<ViewSettings>(DEFAULT_VIEW);
  const [viewError, setViewError] = useState<string | null>(null);
  // The page view a presenter shares and a follower copies (components/session/follow.ts).
  const [zoom, setZoom] = useState<readonly ZoomStep[]>([]);
  const [search, setSearch] = useState('');
  const [icicle, setIcicle] = useState(false);
  const [pointAt, setPointAt] = useState<ZoomStep[] | null>(null);
  const [focus, setFocus] = useState<string | null>(null);
  const [snapshotsOpen, setSnapshotsOpen] = useState(false);
  const [compare, setCompare] = useState<CompareSource | null>(null);
  // Viewers start in follow mode; any local change of the view leaves it.
  const [following, setFollowing] = useState(true);
  const follower = isViewer && following;
  const followerRef = useRef(follower);
  const viewRef = useRef(view);
  useEffect(() => {
    followerRef.current = follower;
    viewRef.current = view;
  });

  const changeView = useCallback(
    async (next: ViewSettings) => {
      const previous = viewRef.current;
      viewRef.current = next;
      setViewState(next);
      const reply = await setView(next);
      if (!reply.ok) {
        viewRef.current = previous;
        setViewState(previous);
        setViewError(reply.error);
      } else setViewError(null);
    },
    [setView],
  );

  /** A change the viewer made itself: it leaves follow mode. */
  const local = useCallback(() => {
    if (followerRef.current) {
      followerRef.current = false;
      setFollowing(false);
    }
  }, []);

  // A new connection starts with the default view on the server: send ours again.
  useEffect(() => {
    if (connection === 'connected') {
      void setView(viewRef.current).then((reply) => setViewError(reply.ok ? null : reply.error));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [connection]);

  // Follower: copy the presenter's view (on join, on every follow:view, and on Rejoin).
  useEffect(() => {
    if (!follower || !presenterView) return;
    const target = pageViewOf(presenterView);
    if (!sameViewSettings(target.view, viewRef.current)) void changeView(target.view);
    setZoom((previous) => (sameNames(namesOf(previous), presenterView.zoom) ? previous : target.zoom));
    setSearch(target.search);
    setIcicle(target.icicle);
    setFocus(target.focus);
  }, [follower, presenterView, changeView]);

  // Presenter: share the view (debounced), and again after a reconnection.
  const lastShared = useRef<FollowView | null>(null);
  useEffect(() => {
    lastShared.current = null;
  }, [connection]);
  useEffect(() => {
    if (role !== 'operator' || connection !== 'connected') return;
    const shared = followViewOf({ view, zoom, search, icicle, selected: pointAt, focus });
    if (sameFollowView(shared, lastShared.current)) return;
    const timer = setTimeout(() => {
      lastShared.current = shared;
      void send('follow:set', shared).then((reply) => {
        if (!reply.ok) lastShared.current = null;
      });
    }, FOLLOW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [role, connection, view, zoom, search, icicle, pointAt, focus, send]);

  // Follower: outline and bring into view the presenter's panel.
  useEffect(() => {
    for (const el of document.querySelectorAll<HTMLElement>('[data-presenter-focus]')) delete el.dataset.presenterFocus;
    if (!follower || !focus) return;
    const el = document.querySelector<HTMLElement>(`[data-focus-panel="${CSS.escape(focus)}"]`);
    if (!el) return;
    el.dataset.presenterFocus = 'true';
    el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [follower, focus]);

  const onZoomChange = useCallback(
    (path: ZoomStep[], cause: ZoomCause) => {
      if (cause === 'click') {
        local();
        setZoom(path);
        return;
      }
      // What the graph shows changed by itself (the frame left the tree, kinds were filled in).
      // A follower keeps the presenter's full path (the frame may come back); others adopt it.
      if (!followerRef.current) setZoom((previous) => (samePath(previous, path) ? previous : path));
    },
    [local],
  );
  const onSearchChange = useCallback(
    (text: string) => {
      local();
      setSearch(text);
    },
    [local],
  );
  const onIcicleChange = useCallback(
    (value: boolean) => {
      local();
      setIcicle(value);
    },
    [local],
  );
  const marked = useMemo(
    () => (follower && presenterView?.selected ? pageViewOf(presenterView).selected : null),
    [follower, presenterView],
  );
  const onPointAt = useCallback((path: ZoomStep[] | null) => setPointAt(path), []);
  // Presenter: the panel last interacted with is the one in focus.
  const trackFocus = (target: EventTarget) => {
    if (role !== 'operator' || !(target instanceof Element)) return;
    const panel = target.closest<HTMLElement>('[data-focus-panel]');
    if (panel?.dataset.focusPanel) setFocus(panel.dataset.focusPanel);
  };

  // Talking to a server of another protocol version could do the wrong thing: controls stay off.
  const connected = connection === 'connected' && !session.protocolMismatch;
  const status = session.status;
  const replay = session.sessionState?.replay ?? null;
  const isOperator = (session.hello?.canControl ?? false) && !isViewer;
  // A replay shows what was recorded: nothing that changes probes (the server refuses it too).
  const canControl = isOperator && replay === null;
  const running = status?.settings.running ?? true;
  const emptyMessage = (() => {
    if (connection === 'refused') return 'Not connected: access refused.';
    if (session.closed) return 'This session has ended for this page.';
    if (session.protocolMismatch) return 'Not drawn: the server speaks another protocol version (see above).';
    if (!connected) return 'Connecting to the server…';
    if (status?.error) return 'Sampling is not working (see above).';
    if (!running) return 'Sampling is stopped. Press Start.';
    return 'Waiting for samples…';
  })();

  return (
    <div className="flex min-h-screen flex-col">
      <header className="flex items-center gap-4 border-b border-slate-800 bg-slate-950/80 px-5 py-3">
        <h1 className="text-lg font-semibold tracking-tight text-slate-100">
          probe<span className="text-orange-400">board</span>
        </h1>
        <span className="text-xs text-slate-500">live eBPF profiling</span>
        <div className="ml-auto flex items-center gap-3">
          {session.hello && (
            <span data-testid={TEST_IDS.serverVersion} className="text-xs text-slate-500">
              server {session.hello.version} · protocol {session.hello.protocol}
            </span>
          )}
          <ConnectionBadge state={connection} detail={session.connectionError} />
        </div>
      </header>
      <SessionBar
        role={role}
        sessionId={session.sessionId}
        state={session.sessionState}
        send={send}
        connected={connected}
        following={following}
        hasPresenter={presenterView !== null}
        presenterZoom={presenterView?.zoom ?? []}
        onFollow={setFollowing}
        snapshotsOpen={snapshotsOpen}
        onSnapshots={setSnapshotsOpen}
        onCompareRecording={(recording) => setCompare({ kind: 'recording', recording })}
      />
      {replay && session.sessionState && (
        <ReplayBar replay={replay} name={session.sessionState.name} role={role} send={send} connected={connected} />
      )}

      <div className="flex flex-1 flex-col gap-4 p-4 lg:flex-row lg:items-start">
        <aside
          aria-label="Controls"
          className="flex w-full shrink-0 flex-col gap-6 rounded-lg border border-slate-700 bg-slate-900/60 p-4 lg:sticky lg:top-4 lg:w-64"
        >
          <SamplingControls
            status={status}
            canControl={canControl}
            connected={connected}
            configure={session.configure}
          />
          <ViewControls
            view={view}
            onChange={(v) => {
              local();
              void changeView(v);
            }}
            error={viewError}
            disabled={!connected}
          />
        </aside>

        <main
          className="flex min-w-0 flex-1 flex-col gap-4"
          onPointerDownCapture={(e) => trackFocus(e.target)}
          onFocusCapture={(e) => trackFocus(e.target)}
        >
          <Banners
            connection={connection}
            connectionError={session.connectionError}
            closed={session.closed}
            isViewer={isViewer}
            protocolMismatch={session.protocolMismatch}
            statusError={status?.error ?? null}
            notices={session.notices}
            onDismiss={session.dismissNotice}
          />
          {isViewer && (
            <p data-testid={SESSION_TEST_IDS.readOnly} className="rounded-md border border-sky-700/50 bg-sky-950/40 px-4 py-2 text-xs text-sky-100">
              Read-only viewer link: you see every probe of this session live and may change your own view (window,
              stacks, zoom, search, orientation, pause), but not what is traced.
            </p>
          )}
          {snapshotsOpen && (
            <SnapshotsPanel
              send={send}
              role={role}
              onClose={() => setSnapshotsOpen(false)}
              onCompare={(pair) => setCompare({ kind: 'snapshots', ...pair })}
            />
          )}
          {compare && <ComparePanel source={compare} send={send} view={view} onClose={() => setCompare(null)} />}
          <FlamePanel
            sessionId={session.sessionId}
            view={view}
            send={send}
            canPin={isOperator && connected}
            frame={session.frame}
            framesReceived={session.framesReceived}
            cpus={status?.cpus ?? null}
            emptyMessage={emptyMessage}
            search={search}
            onSearchChange={onSearchChange}
            zoom={zoom}
            onZoomChange={onZoomChange}
            icicle={icicle}
            onIcicleChange={onIcicleChange}
            marked={marked}
            onPointAt={role === 'operator' ? onPointAt : undefined}
            highlightSearch={follower}
          />
          <LatencySection session={session} connected={connected} canControl={canControl} sessionId={session.sessionId} canPin={isOperator && connected} />
          <EventsSection session={session} connected={connected} canControl={canControl} />
        </main>
      </div>
    </div>
  );
}
