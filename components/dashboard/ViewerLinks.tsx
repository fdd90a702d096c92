'use client';
/**
 * "Share viewer link" (operators): pick a lifetime and an optional label, create the link, and
 * copy its full URL. The server sends the link's secret only in this reply, so the URL is shown
 * once, here; afterwards the list shows each link's label and expiry, with Revoke.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { MAX_LINK_LABEL, type ViewerLinkCreated, type ViewerLinkInfo } from '../../lib/protocol-session.ts';
import { SESSION_TEST_IDS } from '../../lib/test-ids.ts';
import { buttonClass, inputClass } from '../controls/Field.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { Menu } from '../ui/Menu.tsx';

export const LINK_LIFETIMES: { minutes: number; label: string }[] = [
  { minutes: 15, label: '15 min' },
  { minutes: 60, label: '1 hour' },
  { minutes: 8 * 60, label: '8 hours' },
  { minutes: 24 * 60, label: '24 hours' },
];

/** "in 14 min", "in 7 h 59 min", "expired". */
export function expiresIn(expiresAtMs: number, nowMs: number): string {
  const minutes = Math.ceil((expiresAtMs - nowMs) / 60_000);
  if (minutes <= 0) return 'expired';
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return `in ${hours} h${rest ? ` ${rest} min` : ''}`;
}

async function copyText(text: string, fallback: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Not a secure context, or no permission: select it for Ctrl+C.
    fallback?.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
}

/** Ticks every `ms` so relative times stay true. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}

export function ViewerLinks({
  links,
  send,
  connected,
}: {
  links: ViewerLinkInfo[];
  send: ProfileSession['send'];
  connected: boolean;
}) {
  const [open, setOpen] = useState(false);
  const [minutes, setMinutes] = useState(60);
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ url: string; label: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const [urlInput, setUrlInput] = useState<HTMLInputElement | null>(null);
  const now = useNow(15_000);
  // The secret is shown once: closing the panel forgets it.
  useEffect(() => {
    if (!open) {
      setCreated(null);
      setCopied(false);
    }
  }, [open]);

  async function create(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCopied(false);
    try {
      const reply = await send('link:create', { minutes, ...(label.trim() && { label: label.trim() }) });
      if (!reply.ok || !reply.value) {
        setError(reply.ok ? 'the server sent no link' : reply.error);
        return;
      }
      setCreated({ url: new URL(reply.value.path, window.location.origin).toString(), label: reply.value.label });
      setLabel('');
    } finally {
      setBusy(false);
    }
  }

  async function revoke(id: string) {
    const reply = await send('link:revoke', { id });
    setError(reply.ok ? null : reply.error);
  }

  const live = links.filter((l) => !l.revoked && l.expiresAtMs > now);
  return (
    <Menu
      kind="dialog"
      title="Share viewer link"
      label={`Share viewer link${live.length > 0 ? ` (${live.length})` : ''}`}
      buttonTestId={SESSION_TEST_IDS.shareOpen}
      buttonClassName="border-sky-500/60 text-sky-100"
      disabled={!connected}
      open={open}
      onOpenChange={setOpen}
      panelClassName="flex w-[28rem] flex-col gap-3 p-4"
    >
      <p className="text-xs text-slate-400">
        A viewer link opens this session read-only: viewers see every probe and follow your view, but cannot start,
        stop or change anything.
      </p>
      <form noValidate onSubmit={create} className="flex flex-wrap items-end gap-2">
        <label className="flex flex-col gap-1 text-[11px] uppercase tracking-wide text-slate-400">
          Valid for
          <select
            data-testid={SESSION_TEST_IDS.shareLifetime}
            value={minutes}
            onChange={(e) => setMinutes(Number(e.target.value))}
            className={inputClass + ' w-28 normal-case tracking-normal'}
          >
            {LINK_LIFETIMES.map((l) => (
              <option key={l.minutes} value={l.minutes}>
                {l.label}
              </option>
            ))}
          </select>
        </label>
        <label className="flex min-w-0 flex-1 flex-col gap-1 text-[11px] uppercase tracking-wide text-slate-400">
          Label (optional)
          <input
            data-testid={SESSION_TEST_IDS.shareLabel}
            value={label}
            maxLength={MAX_LINK_LABEL}
            placeholder="e.g. team call"
            onChange={(e) => setLabel(e.target.value)}
            className={inputClass + ' normal-case tracking-normal'}
          />
        </label>
        <button type="submit" data-testid={SESSION_TEST_IDS.shareCreate} disabled={busy || !connected} className={buttonClass}>
          {busy ? 'Creating…' : 'Create link'}
        </button>
      </form>
      {error && (
        <p role="alert" data-testid={SESSION_TEST_IDS.shareError} className="text-xs text-rose-400">
          {error}
        </p>
      )}
      {created && (
        <div className="flex flex-col gap-1 rounded-md border border-emerald-600/50 bg-emerald-950/30 p-2">
          <div className="flex gap-2">
            <input
              ref={setUrlInput}
              readOnly
              aria-label="Viewer link URL"
              data-testid={SESSION_TEST_IDS.shareUrl}
              value={created.url}
              onFocus={(e) => e.currentTarget.select()}
              className={inputClass + ' font-mono text-xs'}
            />
            <button
              type="button"
              data-testid={SESSION_TEST_IDS.shareCopy}
              onClick={() => void copyText(created.url, urlInput).then(setCopied)}
              className={buttonClass}
            >
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
          <p className="text-[11px] text-emerald-200/80">
            Copy it now: the link{created.label ? ` “${created.label}”` : ''} is shown only once. Anyone with it can watch until
            it expires or you revoke it.
          </p>
        </div>
      )}
      <div className="flex flex-col gap-1">
        <h3 className="text-[11px] font-medium uppercase tracking-wide text-slate-400">Links of this session</h3>
        {links.length === 0 ? (
          <p className="text-xs text-slate-500">None yet.</p>
        ) : (
          <ul data-testid={SESSION_TEST_IDS.links} className="flex max-h-56 flex-col gap-1 overflow-y-auto">
            {[...links].reverse().map((link) => {
              const dead = link.revoked || link.expiresAtMs <= now;
              return (
                <li
                  key={link.id}
                  data-testid={SESSION_TEST_IDS.link}
                  data-id={link.id}
                  data-state={link.revoked ? 'revoked' : dead ? 'expired' : 'live'}
                  className="flex items-center gap-2 text-xs"
                >
                  <span className={'min-w-0 flex-1 truncate ' + (dead ? 'text-slate-500 line-through' : 'text-slate-200')}>
                    {link.label || <span className="italic text-slate-400">no label</span>}
                  </span>
                  <span className="whitespace-nowrap text-slate-400" title={new Date(link.expiresAtMs).toLocaleString()}>
                    {link.revoked ? 'revoked' : dead ? 'expired' : `expires ${expiresIn(link.expiresAtMs, now)}`}
                  </span>
                  {!dead && (
                    <button
                      type="button"
                      data-testid={SESSION_TEST_IDS.linkRevoke}
                      onClick={() => void revoke(link.id)}
                      className={buttonClass + ' px-2 py-0 text-xs text-rose-200'}
                    >
                      Revoke
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </Menu>
  );
}
