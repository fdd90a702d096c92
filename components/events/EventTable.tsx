'use client';
/**
 * A virtualised table of event rows, newest first: only the rows in view (plus a few either
 * side) are in the DOM, whatever the row count, so it stays smooth at thousands of rows a second.
 */
import { useRef, useState } from 'react';
import { EVENTS_TEST_IDS } from '../../lib/test-ids.ts';
import { formatTime, type ShownRow } from './rows.ts';

export const ROW_HEIGHT = 22;
const OVERSCAN = 8;

export function EventTable({ rows, height = 320 }: { rows: ShownRow[]; height?: number }) {
  const [scrollTop, setScrollTop] = useState(0);
  const box = useRef<HTMLDivElement>(null);
  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const visible = rows.slice(first, last);

  return (
    <div className="rounded-md border border-slate-700 font-mono text-xs">
      <div className="grid grid-cols-[7rem_5rem_5rem_9rem_1fr] gap-2 border-b border-slate-700 bg-slate-900 px-2 py-1 text-[11px] uppercase tracking-wide text-slate-400">
        <span>time</span>
        <span>pid</span>
        <span>tid</span>
        <span>comm</span>
        <span>fields</span>
      </div>
      <div
        ref={box}
        data-testid={EVENTS_TEST_IDS.table}
        data-rows={rows.length}
        role="table"
        aria-rowcount={rows.length}
        className="relative overflow-y-auto"
        style={{ height }}
        onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      >
        <div style={{ height: rows.length * ROW_HEIGHT, position: 'relative' }}>
          {visible.map((row, i) => (
            <div
              key={row.n}
              role="row"
              data-testid={EVENTS_TEST_IDS.row}
              data-n={row.n}
              data-pid={row.pid}
              className={
                'absolute left-0 right-0 grid grid-cols-[7rem_5rem_5rem_9rem_1fr] gap-2 px-2 leading-[22px] ' +
                ((first + i) % 2 === 0 ? 'bg-slate-900/30' : '')
              }
              style={{ top: (first + i) * ROW_HEIGHT, height: ROW_HEIGHT }}
            >
              <span className="text-slate-400">{formatTime(row.t)}</span>
              <span className="text-slate-200">{row.pid}</span>
              <span className="text-slate-400">{row.tid}</span>
              <span className="truncate text-sky-300">{row.comm}</span>
              <span className={'truncate ' + (row.hasError ? 'text-amber-300' : 'text-slate-100')} title={row.text}>
                {row.text}
              </span>
            </div>
          ))}
        </div>
        {rows.length === 0 && <p className="absolute inset-x-0 top-4 text-center text-slate-500">No rows (yet, or none match the filter).</p>}
      </div>
    </div>
  );
}
