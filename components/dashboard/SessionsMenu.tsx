'use client';
/**
 * Sessions (operators): list the server's sessions, start a new one (it opens in a new tab at
 * its own URL, `/?session=ID`), open or close one. `main` cannot be closed. A server that runs a
 * single session refuses `session:create`; the refusal is shown here.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { MAX_SESSION_NAME, type SessionSummary } from '../../lib/protocol-session.ts';
import { SESSION_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, inputClass } from '../controls/Field.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { Menu } from '../ui/Menu.tsx';

export function sessionUrl(id: string): string {
  return `/?${new URLSearchParams({ session: id }).toString()}`;
}

export function SessionsMenu({ current, send, connected }: { current: string; send: ProfileSession['send']; connected: boolean }) {
  const [open, setOpen] = useState(false);
  const [sessions, setSessions] = useState<SessionSummary[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const refresh = useCallback(async () => {
    const reply = await send('session:list', undefined);
    if (reply.ok) setSessions(Array.isArray(reply.value) ? reply.value : []);
    else setError(reply.error);
  }, [send]);

  useEffect(() => {
    if (!open) return;
    void refresh();
    const timer = setInterval(() => void refresh(), 5000);
    return () => clearInterval(timer);
  }, [open, refresh]);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const reply = await send('session:create', { name: name.trim() });
      if (!reply.ok || !reply.value) {
        setError(reply.ok ? 'the server sent no session' : reply.error);
        return;
      }
      setName('');
      window.open(reply.value.path, '_blank', 'noopener');
      await refresh();
    } finally {
      setBusy(false);
    }
  }

  async function close(id: string) {
    if (!window.confirm(`Close session ${id}? Its probes stop and everyone in it is disconnected.`)) return;
    const reply = await send('session:close', { id });
    setError(reply.ok ? null : reply.error);
    await refresh();
  }

  return (
    <Menu
      kind="dialog"
      title="Sessions"
      label="Sessions ▾"
      buttonTestId={SESSION_TEST_IDS.sessionsOpen}
      buttonClassName="text-xs"
      disabled={!connected}
      open={open}
      onOpenChange={setOpen}
      panelClassName="flex w-80 flex-col gap-3 p-4"
    >
      <ul data-testid={SESSION_TEST_IDS.sessionsList} className="flex flex-col gap-1">
        {sessions === null ? (
          <li className="text-xs text-slate-500">Loading…</li>
        ) : (
          sessions.map((s) => (
            <li key={s.id} data-testid={SESSION_TEST_IDS.sessionItem} data-id={s.id} className="flex items-center gap-2 text-xs">
              <span className="min-w-0 flex-1 truncate text-slate-200" title={s.id}>
                {s.name} <span className="font-mono text-slate-500">{s.id}</span>
                {s.id === current && <span className="ml-1 text-sky-300">(this tab)</span>}
              </span>
              <span className="text-slate-400">{s.connections} connected</span>
              {s.id !== current && (
                <a href={sessionUrl(s.id)} target="_blank" rel="noopener" className="text-sky-300 hover:underline">
                  open
                </a>
              )}
              {s.id !== 'main' && (
                <button
                  type="button"
                  data-testid={SESSION_TEST_IDS.sessionsClose}
                  onClick={() => void close(s.id)}
                  className="text-rose-300 hover:underline"
                >
                  close
                </button>
              )}
            </li>
          ))
        )}
      </ul>
      <form noValidate onSubmit={create} className="flex gap-2">
        <input
          data-testid={SESSION_TEST_IDS.sessionsName}
          aria-label="New session name"
          placeholder="new session name"
          maxLength={MAX_SESSION_NAME}
          value={name}
          onChange={(e) => setName(e.target.value)}
          className={inputClass}
        />
        <button type="submit" data-testid={SESSION_TEST_IDS.sessionsCreate} disabled={busy || name.trim() === ''} className={buttonClass}>
          New
        </button>
      </form>
      <p className="text-[11px] text-slate-500">A new session has its own probes and opens in a new tab.</p>
      {error && (
        <p role="alert" data-testid={SESSION_TEST_IDS.sessionsError} className="text-xs text-rose-400">
          {error}
        </p>
      )}
    </Menu>
  );
}
