'use client';
/**
 * The probe picker: search what can be traced as you type, and build a valid events spec.
 *   Tracepoints:  kernel tracepoints matching the text          -> tracepoint:CAT:NAME
 *   Process:      running processes; choosing one lists its binaries and libraries and its USDT
 *                 probes; choosing a binary lists its functions -> usdt:… / uprobe:… with the pid
 *   Binary:       a path or library name: its USDT probes and functions
 *   exec:         every process start
 * The server answers (discover:*, lib/protocol-events.ts) with at most 200 matches and the total.
 */
import { useState, type ReactNode } from 'react';
import type { DiscoveredObject, DiscoveredProcess, DiscoveredSymbol, DiscoveredTracepoint, DiscoveredUsdt } from '../../lib/protocol-events.ts';
import { EVENTS_TEST_IDS } from '../../lib/test-ids.ts';
import { inputClass } from '../controls/Field.tsx';
import type { ProfileSession } from '../session/useProfileSession.ts';
import { globOf, useDiscovery, type Discovery } from './useDiscovery.ts';

type Mode = 'tracepoints' | 'process' | 'binary' | 'exec';
const MODES: { mode: Mode; label: string }[] = [
  { mode: 'tracepoints', label: 'Tracepoints' },
  { mode: 'process', label: 'Process' },
  { mode: 'binary', label: 'Binary' },
  { mode: 'exec', label: 'exec' },
];

export type Pick = (spec: string, pid?: number) => void;

const itemClass = 'w-full truncate rounded px-2 py-0.5 text-left font-mono text-xs text-slate-200 hover:bg-slate-700 focus:bg-slate-700 focus:outline-none';

function Results<T>({
  title,
  found,
  render,
}: {
  title: string;
  found: Discovery<T>;
  render: (item: T) => ReactNode;
}) {
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-1">
      <div className="flex items-baseline gap-2 text-[11px] uppercase tracking-wide text-slate-400">
        <span>{title}</span>
        {found.result && (
          <span data-testid={EVENTS_TEST_IDS.pickerTotal} className="normal-case tracking-normal text-slate-500">
            {found.result.total > found.result.items.length ? `first ${found.result.items.length} of ${found.result.total}` : `${found.result.total} found`}
          </span>
        )}
        {found.loading && <span className="normal-case tracking-normal text-slate-500">searching…</span>}
      </div>
      {found.error && (
        <p data-testid={EVENTS_TEST_IDS.pickerError} role="alert" className="text-xs text-rose-400">
          {found.error}
        </p>
      )}
      <ul className="max-h-48 overflow-y-auto rounded border border-slate-800 bg-slate-950/50 py-1">
        {(found.result?.items ?? []).map((item, i) => (
          <li key={i}>{render(item)}</li>
        ))}
      </ul>
    </div>
  );
}

function BinaryProbes({ send, binary, pid, onPick }: { send: ProfileSession['send']; binary: string; pid?: number; onPick: Pick }) {
  const [query, setQuery] = useState('');
  const symbols = useDiscovery<DiscoveredSymbol>(send, 'discover:symbols', binary ? { binary, ...(globOf(query) && { glob: globOf(query) }) } : null);
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-1">
      <input
        data-testid={EVENTS_TEST_IDS.symbolQuery}
        aria-label="search functions"
        className={inputClass + ' font-mono'}
        placeholder={`functions of ${binary.split('/').pop()} (type to search)`}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <Results
        title="Functions (uprobe)"
        found={symbols}
        render={(s) => (
          <button type="button" data-testid={EVENTS_TEST_IDS.symbolItem} data-spec={s.spec} className={itemClass} title={s.symbol} onClick={() => onPick(s.spec, pid)}>
            {s.name}
          </button>
        )}
      />
    </div>
  );
}

function UsdtList({ found, pid, onPick }: { found: Discovery<DiscoveredUsdt>; pid?: number; onPick: Pick }) {
  return (
    <Results
      title="USDT probes"
      found={found}
      render={(p) => (
        <button
          type="button"
          data-testid={EVENTS_TEST_IDS.usdtItem}
          data-spec={p.spec}
          className={itemClass}
          title={`${p.binary}\nargs: ${p.args.join(' ') || 'none'}${p.semaphore ? '\n(semaphore)' : ''}`}
          onClick={() => onPick(p.spec, pid)}
        >
          {p.provider}:{p.name} <span className="text-slate-500">({p.args.length} args) {p.binary.split('/').pop()}</span>
        </button>
      )}
    />
  );
}

function ProcessMode({ send, onPick }: { send: ProfileSession['send']; onPick: Pick }) {
  const [query, setQuery] = useState('');
  const [chosen, setChosen] = useState<DiscoveredProcess | null>(null);
  const [binary, setBinary] = useState<string | null>(null);
  const processes = useDiscovery<DiscoveredProcess>(send, 'discover:processes', chosen ? null : query.trim() ? { query: query.trim() } : {});
  const objects = useDiscovery<DiscoveredObject>(send, 'discover:objects', chosen ? { pid: chosen.pid } : null, 0);
  const usdt = useDiscovery<DiscoveredUsdt>(send, 'discover:usdt', chosen ? { pid: chosen.pid } : null, 0);

  if (!chosen) {
    return (
      <div className="flex flex-col gap-2">
        <input
          data-testid={EVENTS_TEST_IDS.processQuery}
          aria-label="search processes"
          className={inputClass}
          placeholder="pid, command or path"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <Results
          title="Processes"
          found={processes}
          render={(p) => (
            <button
              type="button"
              data-testid={EVENTS_TEST_IDS.processItem}
              data-pid={p.pid}
              data-comm={p.comm}
              className={itemClass}
              title={p.cmdline}
              onClick={() => {
                setChosen(p);
                setBinary(p.exe);
              }}
            >
              <span className="text-slate-400">{p.pid}</span> {p.comm} <span className="text-slate-500">{p.cmdline}</span>
            </button>
          )}
        />
      </div>
    );
  }
  return (
    <div className="flex flex-col gap-2">
      <div className="flex items-center gap-2 text-xs text-slate-300">
        <span>
          process <b className="font-mono">{chosen.pid}</b> {chosen.comm} <span className="text-slate-500">{chosen.exe}</span>
        </span>
        <button
          type="button"
          className="ml-auto text-sky-300 hover:underline"
          onClick={() => {
            setChosen(null);
            setBinary(null);
          }}
        >
          choose another process
        </button>
      </div>
      <div className="flex flex-col gap-3 lg:flex-row">
        <Results
          title="Binaries and libraries"
          found={objects}
          render={(o) => (
            <button
              type="button"
              data-testid={EVENTS_TEST_IDS.objectItem}
              data-path={o.path}
              aria-pressed={binary === o.path}
              className={itemClass + (binary === o.path ? ' bg-slate-700' : '')}
              onClick={() => setBinary(o.path)}
            >
              {o.path}
              {o.deleted && <span className="text-amber-300"> (deleted)</span>}
            </button>
          )}
        />
        <UsdtList found={usdt} pid={chosen.pid} onPick={onPick} />
        {binary && <BinaryProbes key={binary} send={send} binary={binary} pid={chosen.pid} onPick={onPick} />}
      </div>
    </div>
  );
}

function BinaryMode({ send, onPick }: { send: ProfileSession['send']; onPick: Pick }) {
  const [text, setText] = useState('');
  const binary = text.trim();
  const usdt = useDiscovery<DiscoveredUsdt>(send, 'discover:usdt', binary ? { binary } : null, 300);
  return (
    <div className="flex flex-col gap-2">
      <input
        data-testid={EVENTS_TEST_IDS.binaryInput}
        aria-label="binary path or library name"
        className={inputClass + ' font-mono'}
        placeholder="/usr/bin/python3 or a library name (c, pthread)"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      {binary && (
        <div className="flex flex-col gap-3 lg:flex-row">
          <UsdtList found={usdt} onPick={onPick} />
          <BinaryProbes key={binary} send={send} binary={binary} onPick={onPick} />
        </div>
      )}
    </div>
  );
}

function TracepointMode({ send, onPick }: { send: ProfileSession['send']; onPick: Pick }) {
  const [query, setQuery] = useState('');
  const glob = globOf(query);
  const found = useDiscovery<DiscoveredTracepoint>(send, 'discover:tracepoints', glob ? { glob } : {});
  return (
    <div className="flex flex-col gap-2">
      <input
        data-testid={EVENTS_TEST_IDS.tracepointQuery}
        aria-label="search tracepoints"
        className={inputClass + ' font-mono'}
        placeholder="sched_switch, syscalls:sys_enter_open*"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <Results
        title="Tracepoints"
        found={found}
        render={(t) => (
          <button type="button" data-testid={EVENTS_TEST_IDS.tracepointItem} data-id={t.id} className={itemClass} onClick={() => onPick(`tracepoint:${t.id}`)}>
            {t.id}
          </button>
        )}
      />
    </div>
  );
}

export function ProbePicker({ send, onPick, disabled }: { send: ProfileSession['send']; onPick: Pick; disabled?: boolean }) {
  const [mode, setMode] = useState<Mode>('tracepoints');
  return (
    <div data-testid={EVENTS_TEST_IDS.picker} className="flex flex-col gap-2 rounded-md border border-slate-800 bg-slate-900/50 p-3">
      <div role="tablist" aria-label="what to trace" className="flex gap-1">
        {MODES.map((m) => (
          <button
            key={m.mode}
            type="button"
            role="tab"
            aria-selected={mode === m.mode}
            data-testid={EVENTS_TEST_IDS.pickerMode}
            data-mode={m.mode}
            disabled={disabled}
            className={
              'rounded px-2 py-0.5 text-xs ' + (mode === m.mode ? 'bg-sky-500/20 text-sky-200 ring-1 ring-sky-500/50' : 'text-slate-300 hover:bg-slate-800')
            }
            onClick={() => setMode(m.mode)}
          >
            {m.label}
          </button>
        ))}
      </div>
      {disabled ? (
        <p className="text-xs text-slate-500">Connect to search.</p>
      ) : mode === 'tracepoints' ? (
        <TracepointMode send={send} onPick={onPick} />
      ) : mode === 'process' ? (
        <ProcessMode send={send} onPick={onPick} />
      ) : mode === 'binary' ? (
        <BinaryMode send={send} onPick={onPick} />
      ) : (
        <div className="flex items-center gap-2 text-xs text-slate-300">
          <span>Every process start, with filename and argv (like execsnoop).</span>
          <button type="button" className={itemClass + ' w-auto'} data-testid={EVENTS_TEST_IDS.tracepointItem} data-id="exec" onClick={() => onPick('exec')}>
            exec
          </button>
        </div>
      )}
    </div>
  );
}
