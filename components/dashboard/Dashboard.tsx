'use client';
/**
 * The dashboard: header with the connection state, a control bar, and panels. The flame
 * graph is the first panel; latency histograms, heatmaps and event tables will sit beside
 * it in the same grid.
 */
import { useCallback, useEffect, useState } from 'react';
import { DEFAULT_VIEW, type ViewSettings } from '../../lib/protocol.ts';
import { TEST_IDS } from '../../lib/test-ids.ts';
import { SamplingControls } from '../controls/SamplingControls.tsx';
import { ViewControls } from '../controls/ViewControls.tsx';
import { FlamePanel } from '../flamegraph/FlamePanel.tsx';
import { LatencySection } from '../latency/LatencySection.tsx';
import { EventsSection } from '../events/EventsSection.tsx';
import { useProfileSession } from '../session/useProfileSession.ts';
import { Banners } from './Banners.tsx';
import { ConnectionBadge } from './ConnectionBadge.tsx';

export function Dashboard() {
  const session = useProfileSession();
  const { connection, setView } = session;
  const [view, setViewState] = useState<ViewSettings>(DEFAULT_VIEW);
  const [viewError, setViewError] = useState<string | null>(null);

  const changeView = useCallback(
    async (next: ViewSettings) => {
      const previous = view;
      setViewState(next);
      const reply = await setView(next);
      if (!reply.ok) {
        setViewState(previous);
        setViewError(reply.error);
      } else setViewError(null);
    },
    [view, setView],
  );

  // A new connection starts with the default view on the server: send ours again.
  useEffect(() => {
    if (connection === 'connected') {
      void setView(view).then((reply) => setViewError(reply.ok ? null : reply.error));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [connection]);

  // Talking to a server of another protocol version could do the wrong thing: controls stay off.
  const connected = connection === 'connected' && !session.protocolMismatch;
  const status = session.status;
  const running = status?.settings.running ?? true;
  const emptyMessage = (() => {
    if (connection === 'refused') return 'Not connected: access refused.';
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

      <div className="flex flex-1 flex-col gap-4 p-4 lg:flex-row lg:items-start">
        <aside
          aria-label="Controls"
          className="flex w-full shrink-0 flex-col gap-6 rounded-lg border border-slate-700 bg-slate-900/60 p-4 lg:sticky lg:top-4 lg:w-64"
        >
          <SamplingControls
            status={status}
            canControl={session.hello?.canControl ?? false}
            connected={connected}
            configure={session.configure}
          />
          <ViewControls view={view} onChange={(v) => void changeView(v)} error={viewError} disabled={!connected} />
        </aside>

        <main className="flex min-w-0 flex-1 flex-col gap-4">
          <Banners
            connection={connection}
            connectionError={session.connectionError}
            protocolMismatch={session.protocolMismatch}
            statusError={status?.error ?? null}
            notices={session.notices}
            onDismiss={session.dismissNotice}
          />
          <FlamePanel
            frame={session.frame}
            framesReceived={session.framesReceived}
            cpus={status?.cpus ?? null}
            emptyMessage={emptyMessage}
          />
          <LatencySection session={session} connected={connected} />
          <EventsSection session={session} connected={connected} />
        </main>
      </div>
    </div>
  );
}
