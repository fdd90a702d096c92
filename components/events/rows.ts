/**
 * The browser's store of event rows: per probe, a ring of the newest `capacity` rows, each
 * with its field text formatted once on arrival (so filtering and drawing never format again).
 * Pure, no React.
 */
import type { EventFieldValue, EventRow } from '../../lib/protocol-events.ts';

/** Rows kept per probe in the browser. */
export const CLIENT_ROWS = 5000;

export interface ShownRow {
  /** Row number within its probe. */
  n: number;
  t: number;
  pid: number;
  tid: number;
  comm: string;
  /** `name=value …`, formatted once. */
  text: string;
  /** Lower-cased `text`, for filtering. */
  lower: string;
  /** True when some field is an error value. */
  hasError: boolean;
}

function valueText(v: EventFieldValue): string {
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'string' ? JSON.stringify(x) : String(x))).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `⚠ ${v.error}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function toShown(row: EventRow): ShownRow {
  let hasError = false;
  const parts: string[] = [];
  for (const [name, value] of Object.entries(row.fields ?? {})) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) hasError = true;
    parts.push(`${name}=${valueText(value)}`);
  }
  const text = parts.join('  ');
  return { n: row.n, t: row.t, pid: row.pid, tid: row.tid, comm: row.comm, text, lower: text.toLowerCase(), hasError };
}

/** A fixed-capacity ring of rows, oldest overwritten. */
export class RowRing {
  readonly #items: ShownRow[];
  #next = 0;
  #size = 0;
  /** Rows ever pushed. */
  pushed = 0;

  constructor(readonly capacity = CLIENT_ROWS) {
    this.#items = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(row: ShownRow): void {
    this.#items[this.#next] = row;
    this.#next = (this.#next + 1) % this.capacity;
    if (this.#size < this.capacity) this.#size++;
    this.pushed++;
  }

  /** Newest first, those passing `keep`. */
  newestFirst(keep?: (row: ShownRow) => boolean): ShownRow[] {
    const out: ShownRow[] = [];
    for (let i = 1; i <= this.#size; i++) {
      const row = this.#items[(this.#next - i + this.capacity) % this.capacity];
      if (!keep || keep(row)) out.push(row);
    }
    return out;
  }
}

export interface RowFilter {
  comm: string;
  pid: string;
  text: string;
}

/** A predicate for the filter (null: everything passes). comm and text: case-insensitive substrings; pid: exact pid or tid. */
export function rowPredicate(filter: RowFilter): ((row: ShownRow) => boolean) | null {
  const comm = filter.comm.trim().toLowerCase();
  const pidText = filter.pid.trim();
  const pid = pidText === '' ? null : Number(pidText);
  const text = filter.text.trim().toLowerCase();
  if (comm === '' && pid === null && text === '') return null;
  return (row) =>
    (comm === '' || row.comm.toLowerCase().includes(comm)) &&
    (pid === null || row.pid === pid || row.tid === pid) &&
    (text === '' || row.lower.includes(text));
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
