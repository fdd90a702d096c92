/**
 * Recordings and snapshots of sessions, in one embedded SQLite database (better-sqlite3).
 *
 * A recording is every update a session sent to its viewers (`{tMs, kind, payload}`), stored in
 * time order so that it can be replayed later (see player.ts) without root and without a kernel.
 * A snapshot is one pinned flame graph or histogram, under a name.
 *
 * Plain data in, plain data out: payloads are any JSON-serialisable value; this module knows
 * nothing of what a profile or a histogram is. Schema, guarantees and what a crash loses are in
 * README.md next to this file.
 *
 * One process writes a data directory at a time (the server). Opening it marks recordings left
 * unfinished by an earlier process as interrupted.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import type { RecordingSummary } from '../../lib/protocol-session.ts';
import * as v from 'valibot';
import { check } from '../../lib/schema/core.ts';
import {
  EpochMsSchema,
  PinSnapshotRequestSchema,
  ReadUpdatesOptionsSchema,
  RecordedUpdateSchema,
  StartRecordingRequestSchema,
  StoreSessionIdSchema,
  type PinSnapshotRequest,
  type ReadUpdatesOptions,
  type RecordedUpdate,
  type SnapshotKind,
  type StartRecordingRequest,
} from '../../lib/schema/recording.ts';

// The records the store takes are defined once, as schemas, in lib/schema/recording.ts.
export { KIND_PATTERN, MAX_NAME_CHARS, MAX_SESSION_ID_CHARS, SNAPSHOT_KINDS } from '../../lib/schema/recording.ts';
export type { PinSnapshotRequest, ReadUpdatesOptions, RecordedUpdate, SnapshotKind, StartRecordingRequest };

/** File name of the database inside the data directory. */
export const DATABASE_FILE = 'probeboard.db';
/** `PRAGMA application_id` of a probeboard database: 'PBRD'. */
export const APPLICATION_ID = 0x50425244;
/** `PRAGMA user_version` this code writes; it opens any version up to this one (migrating older ones). */
export const SCHEMA_VERSION = 1;

/** Payloads whose JSON is at least this long (bytes) are deflated; kept only if it saves 10 % or more. */
export const COMPRESS_MIN_BYTES = 512;

export const DEFAULTS = {
  /** Bytes of stored updates per recording (payload as stored, after compression, plus kind). */
  maxRecordingBytes: 256 * 1024 * 1024,
  /** Recordings kept in the store (finished or not); starting one more is refused. */
  maxRecordings: 200,
  /** Snapshots kept in the store; pinning one more is refused. */
  maxSnapshots: 1000,
  /** Largest snapshot payload, bytes as stored. */
  maxSnapshotBytes: 64 * 1024 * 1024,
  /** Buffered appends are written at most this long (ms) after the first of them. */
  flushIntervalMs: 250,
  /** ... or as soon as this many rows are buffered ... */
  flushRows: 1000,
  /** ... or as soon as this many payload bytes are buffered. */
  flushBytes: 8 * 1024 * 1024,
} as const;

export interface RecordingStoreOptions {
  /**
   * Open an existing database for reading only (the CLI, while a server may be writing it):
   * nothing is migrated or marked interrupted, and every write method throws.
   */
  readOnly?: boolean;
  maxRecordingBytes?: number;
  maxRecordings?: number;
  maxSnapshots?: number;
  maxSnapshotBytes?: number;
  flushIntervalMs?: number;
  flushRows?: number;
  flushBytes?: number;
  /**
   * Called when the store itself stops a recording: its size limit was reached, or writing
   * failed (disk full). `info.stoppedReason` says why. Not called for `stopRecording`.
   */
  onRecordingStopped?: (info: RecordingInfo) => void;
}

/** A recording as listed (the same shape the hub sends). Times are ms since the epoch. */
export type RecordingInfo = RecordingSummary;

export interface SnapshotInfo {
  /** Random, url-safe (22 characters of base64url). */
  id: string;
  sessionId: string;
  name: string;
  kind: SnapshotKind;
  takenAtMs: number;
  /** Payload bytes as stored (after compression). */
  bytes: number;
}

/** Payload encodings in the `encoding` columns. */
const ENCODING_JSON = 0; // payload is the JSON text (TEXT)
const ENCODING_DEFLATE = 1; // payload is the raw-deflated UTF-8 JSON (BLOB)

/** Rows fetched per query when reading updates. */
const READ_PAGE_ROWS = 64;

const INTERRUPTED_REASON = 'interrupted: probeboard exited while recording (updates of its last moments may be missing)';
const CLOSED_REASON = 'closed: the recording store was closed while recording';

/** Schema migrations: MIGRATIONS[v] takes a database from user_version v to v + 1. */
const MIGRATIONS: ReadonlyArray<(db: Database.Database) => void> = [
  (db) => {
    db.exec(`
      CREATE TABLE recordings (
        key INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        session_id TEXT NOT NULL,
        name TEXT NOT NULL,
        started_at_ms INTEGER NOT NULL,
        ended_at_ms INTEGER,
        updates INTEGER NOT NULL DEFAULT 0,
        bytes INTEGER NOT NULL DEFAULT 0,
        stopped_reason TEXT
      ) STRICT;
      CREATE TABLE updates (
        seq INTEGER PRIMARY KEY,
        recording INTEGER NOT NULL,
        t_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        encoding INTEGER NOT NULL,
        payload ANY NOT NULL
      ) STRICT;
      CREATE INDEX updates_by_time ON updates (recording, t_ms);
      CREATE TABLE snapshots (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        name TEXT NOT NULL,
        kind TEXT NOT NULL,
        taken_at_ms INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        encoding INTEGER NOT NULL,
        payload ANY NOT NULL
      ) STRICT;
      CREATE INDEX snapshots_by_session ON snapshots (session_id, taken_at_ms);
    `);
  },
];

/**
 * Bring `db` from `fromVersion` to SCHEMA_VERSION, in one transaction (all steps or none).
 * Exported for tests and for the README; `RecordingStore.open` calls it.
 */
export function migrate(db: Database.Database, fromVersion: number): void {
  if (fromVersion === SCHEMA_VERSION) return;
  db.transaction(() => {
    for (let v = fromVersion; v < SCHEMA_VERSION; v++) MIGRATIONS[v]!(db);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

interface RecordingRow {
  key: number;
  id: string;
  session_id: string;
  name: string;
  started_at_ms: number;
  ended_at_ms: number | null;
  updates: number;
  bytes: number;
  last_update_at_ms: number | null;
  stopped_reason: string | null;
}

interface UpdateRow {
  seq: number;
  t_ms: number;
  kind: string;
  encoding: number;
  payload: string | Buffer;
}

interface SnapshotRow {
  id: string;
  session_id: string;
  name: string;
  kind: string;
  taken_at_ms: number;
  bytes: number;
}

/** A recording this store is writing. */
interface Active {
  key: number;
  id: string;
  startedAtMs: number;
  /** Including buffered rows. */
  updates: number;
  bytes: number;
  lastTMs: number | null;
}

interface PendingRow {
  active: Active;
  tMs: number;
  kind: string;
  encoding: number;
  payload: string | Buffer;
  bytes: number;
}

interface Encoded {
  encoding: number;
  payload: string | Buffer;
  bytes: number;
}

export class RecordingStore {
  /** Path of the database file. */
  readonly file: string;
  private readonly limits: Required<Omit<RecordingStoreOptions, 'onRecordingStopped' | 'readOnly'>>;
  private readonly onRecordingStopped: ((info: RecordingInfo) => void) | undefined;
  private readonly active = new Map<string, Active>();
  private pending: PendingRow[] = [];
  private pendingBytes = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly stmt: ReturnType<typeof prepareStatements>;

  /**
   * Open (creating on first use) `dataDir/probeboard.db`. The directory is created with mode
   * 0700 and the file with mode 0600. Throws an Error naming the file when it is not a
   * probeboard database, or was written by a newer probeboard.
   */
  static open(dataDir: string, options: RecordingStoreOptions = {}): RecordingStore {
    if (typeof dataDir !== 'string' || dataDir === '') throw new Error('recording store: the data directory must be a non-empty path');
    try {
      if (options.readOnly !== true) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new Error(`recording store: cannot create the data directory ${dataDir}: ${messageOf(error)}`);
    }
    const file = join(dataDir, DATABASE_FILE);
    const readOnly = options.readOnly === true;
    if (readOnly && !existsSync(file)) throw new Error(`no recordings database in ${dataDir} (${DATABASE_FILE} is missing)`);
    const created = !existsSync(file);
    let db: Database.Database;
    try {
      db = new Database(file, readOnly ? { readonly: true, fileMustExist: true } : {});
    } catch (error) {
      throw new Error(`recording store: cannot open ${file}: ${messageOf(error)}`);
    }
    try {
      if (created) chmodSync(file, 0o600);
      prepareDatabase(db, file, readOnly);
      return new RecordingStore(db, file, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  private constructor(
    private readonly db: Database.Database,
    file: string,
    options: RecordingStoreOptions,
  ) {
    this.file = file;
    this.limits = {
      maxRecordingBytes: positiveInteger(options.maxRecordingBytes, DEFAULTS.maxRecordingBytes, 'maxRecordingBytes'),
      maxRecordings: positiveInteger(options.maxRecordings, DEFAULTS.maxRecordings, 'maxRecordings'),
      maxSnapshots: positiveInteger(options.maxSnapshots, DEFAULTS.maxSnapshots, 'maxSnapshots'),
      maxSnapshotBytes: positiveInteger(options.maxSnapshotBytes, DEFAULTS.maxSnapshotBytes, 'maxSnapshotBytes'),
      flushIntervalMs: positiveInteger(options.flushIntervalMs, DEFAULTS.flushIntervalMs, 'flushIntervalMs'),
      flushRows: positiveInteger(options.flushRows, DEFAULTS.flushRows, 'flushRows'),
      flushBytes: positiveInteger(options.flushBytes, DEFAULTS.flushBytes, 'flushBytes'),
    };
    this.onRecordingStopped = options.onRecordingStopped;
    this.stmt = prepareStatements(db);
    // Recordings an earlier process left unfinished: it exited (or crashed) while recording.
    // (Not when reading only: a running server may be recording right now.)
    if (options.readOnly !== true) db.prepare(
      `UPDATE recordings SET stopped_reason = ?,
         ended_at_ms = max(started_at_ms, coalesce((SELECT max(t_ms) FROM updates WHERE recording = recordings.key), started_at_ms))
       WHERE ended_at_ms IS NULL`,
    ).run(INTERRUPTED_REASON);
  }

  // ---------------------------------------------------------------- recordings

  /** Start a recording. Throws when `maxRecordings` recordings are already stored. */
  startRecording(request: StartRecordingRequest): RecordingInfo {
    this.checkOpen();
    const { sessionId, name, startedAtMs } = parse(StartRecordingRequestSchema, request, 'startRecording');
    const count = this.stmt.countRecordings.get()!;
    if (count >= this.limits.maxRecordings) {
      throw new Error(
        `cannot start recording "${name}": the store already holds ${count} recordings (the limit is ${this.limits.maxRecordings}); delete some first`,
      );
    }
    const id = randomId();
    const key = Number(this.stmt.insertRecording.run(id, sessionId, name, startedAtMs).lastInsertRowid);
    this.active.set(id, { key, id, startedAtMs, updates: 0, bytes: 0, lastTMs: null });
    return this.info(key);
  }

  /**
   * Buffer one update of a recording; it is written with the next flush (see README: at most
   * `flushIntervalMs` later). Returns true when buffered, false when the recording is no longer
   * recording (stopped, or stopped by the store because of a limit: see `stoppedReason`).
   * Throws for an unknown recording id or an invalid update (bad time, kind, or a payload that
   * is not JSON-serialisable).
   */
  append(recordingId: string, update: RecordedUpdate): boolean {
    this.checkOpen();
    const active = this.active.get(recordingId);
    if (!active) {
      this.requireRecording(recordingId);
      return false;
    }
    const { tMs, kind } = parse(RecordedUpdateSchema, update, `append to recording ${quote(recordingId)}`);
    const encoded = encodePayload(update.payload, `update of kind ${quote(kind)}`);
    const bytes = encoded.bytes + kind.length;
    if (active.bytes + bytes > this.limits.maxRecordingBytes) {
      this.stopByStore(
        active,
        `size limit: the recording reached ${formatBytes(active.bytes)} and the next update (${formatBytes(bytes)}) would exceed the limit of ${formatBytes(this.limits.maxRecordingBytes)}`,
      );
      return false;
    }
    active.updates += 1;
    active.bytes += bytes;
    active.lastTMs = active.lastTMs === null ? tMs : Math.max(active.lastTMs, tMs);
    this.pending.push({ active, tMs, kind, encoding: encoded.encoding, payload: encoded.payload, bytes });
    this.pendingBytes += bytes;
    if (this.pending.length >= this.limits.flushRows || this.pendingBytes >= this.limits.flushBytes) {
      this.flush();
    } else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        if (!this.closed) this.flush();
      }, this.limits.flushIntervalMs);
      this.flushTimer.unref();
    }
    return true;
  }

  /**
   * Write all buffered updates now, in one transaction. Never throws for a write failure: the
   * recordings whose rows could not be written are stopped with the reason, and
   * `onRecordingStopped` is called.
   */
  flush(): void {
    this.checkOpen();
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      this.db.transaction(() => {
        const totals = new Map<number, { updates: number; bytes: number }>();
        for (const row of rows) {
          this.stmt.insertUpdate.run(row.active.key, row.tMs, row.kind, row.encoding, row.payload);
          const total = totals.get(row.active.key) ?? { updates: 0, bytes: 0 };
          total.updates += 1;
          total.bytes += row.bytes;
          totals.set(row.active.key, total);
        }
        for (const [key, total] of totals) this.stmt.addCounters.run(total.updates, total.bytes, key);
      })();
    } catch (error) {
      const lost = new Map<Active, { updates: number; bytes: number }>();
      for (const row of rows) {
        const total = lost.get(row.active) ?? { updates: 0, bytes: 0 };
        total.updates += 1;
        total.bytes += row.bytes;
        lost.set(row.active, total);
      }
      for (const [active, { updates: lostRows, bytes: lostBytes }] of lost) {
        active.updates -= lostRows;
        active.bytes -= lostBytes;
        if (this.active.get(active.id) === active) {
          this.stopByStore(active, `write failed: ${messageOf(error)} (${lostRows} updates lost)`, false);
        }
      }
    }
  }

  /**
   * Stop a recording (flushing its buffered updates). Stopping a recording that is already
   * stopped changes nothing. Throws for an unknown id, or an end before the start.
   */
  stopRecording(recordingId: string, endedAtMs: number): RecordingInfo {
    this.checkOpen();
    const row = this.requireRecording(recordingId);
    const active = this.active.get(recordingId);
    if (!active) return toRecordingInfo(row);
    const end = parse(EpochMsSchema, endedAtMs, 'stopRecording', 'endedAtMs');
    if (end < active.startedAtMs) {
      throw new Error(`stopRecording ${quote(recordingId)}: endedAtMs ${end} is before the start (${active.startedAtMs})`);
    }
    this.flush();
    if (this.active.get(recordingId) !== active) return this.info(active.key); // the flush failed and stopped it
    this.active.delete(recordingId);
    this.stmt.endRecording.run(end, null, active.key);
    return this.info(active.key);
  }

  /** One recording; throws an Error naming the id when there is none. */
  getRecording(recordingId: string): RecordingInfo {
    this.checkOpen();
    this.flushIfPending();
    return toRecordingInfo(this.requireRecording(recordingId));
  }

  /** All recordings, newest start first. */
  listRecordings(): RecordingInfo[] {
    this.checkOpen();
    this.flushIfPending();
    return this.stmt.listRecordings.all().map(toRecordingInfo);
  }

  /** Delete a recording and its updates (also one in progress: it stops). Throws for an unknown id. */
  deleteRecording(recordingId: string): void {
    this.checkOpen();
    const row = this.requireRecording(recordingId);
    const active = this.active.get(recordingId);
    if (active) {
      this.active.delete(recordingId);
      this.pending = this.pending.filter((pending) => pending.active !== active);
      this.pendingBytes = this.pending.reduce((sum, pending) => sum + pending.bytes, 0);
    }
    this.db.transaction(() => {
      this.stmt.deleteUpdates.run(row.key);
      this.stmt.deleteRecording.run(row.key);
    })();
    this.db.pragma('incremental_vacuum');
  }

  /**
   * The updates of a recording in time order (ties in the order appended), optionally limited
   * to a time range and to some kinds. Buffered updates are flushed first. Reads in pages of a
   * few dozen rows, so a long recording is never all in memory, and no statement stays open
   * between pages: the iterator may be consumed slowly (across timer ticks) while appends go on.
   * Throws at once for an unknown id or invalid options.
   */
  readUpdates(recordingId: string, options: ReadUpdatesOptions = {}): Iterable<RecordedUpdate> {
    this.checkOpen();
    const row = this.requireRecording(recordingId);
    const checked = parse(ReadUpdatesOptionsSchema, options, 'readUpdates');
    const fromMs = checked.fromMs ?? -Infinity;
    const toMs = checked.toMs ?? Infinity;
    const kinds = checked.kinds === undefined ? null : JSON.stringify(checked.kinds);
    this.flushIfPending();
    const store = this;
    const key = row.key;
    return {
      *[Symbol.iterator]() {
        if (fromMs > toMs) return;
        // Keyset pagination: (t_ms, seq) strictly after the last row read.
        let t = Math.ceil(fromMs) === -Infinity ? Number.MIN_SAFE_INTEGER : Math.ceil(fromMs);
        let seq = -1;
        const to = toMs === Infinity ? Number.MAX_SAFE_INTEGER : Math.floor(toMs);
        for (;;) {
          store.checkOpen();
          store.flushIfPending();
          const page = store.stmt.readPage.all({ key, t, seq, to, kinds, limit: READ_PAGE_ROWS });
          for (const update of page) {
            yield { tMs: update.t_ms, kind: update.kind, payload: decodePayload(update, `recording ${quote(recordingId)}`) };
          }
          if (page.length < READ_PAGE_ROWS) return;
          const last = page[page.length - 1]!;
          t = last.t_ms;
          seq = last.seq;
        }
      },
    };
  }

  // ---------------------------------------------------------------- snapshots

  /** Pin a flame graph or histogram under a name. Throws for an invalid request or when a limit is reached. */
  pinSnapshot(request: PinSnapshotRequest): SnapshotInfo {
    this.checkOpen();
    const { sessionId, name, kind, takenAtMs } = parse(PinSnapshotRequestSchema, request, 'pinSnapshot');
    const encoded = encodePayload(request.payload, `snapshot "${name}"`);
    if (encoded.bytes > this.limits.maxSnapshotBytes) {
      throw new Error(`snapshot "${name}" is ${formatBytes(encoded.bytes)}, more than the limit of ${formatBytes(this.limits.maxSnapshotBytes)}`);
    }
    const count = this.stmt.countSnapshots.get()!;
    if (count >= this.limits.maxSnapshots) {
      throw new Error(`cannot pin snapshot "${name}": the store already holds ${count} snapshots (the limit is ${this.limits.maxSnapshots}); delete some first`);
    }
    const id = randomId();
    this.stmt.insertSnapshot.run(id, sessionId, name, kind, takenAtMs, encoded.bytes, encoded.encoding, encoded.payload);
    return { id, sessionId, name, kind, takenAtMs, bytes: encoded.bytes };
  }

  /** Snapshots (of one session, or all), newest first, without payloads. */
  listSnapshots(sessionId?: string): SnapshotInfo[] {
    this.checkOpen();
    const rows = sessionId === undefined ? this.stmt.listSnapshots.all() : this.stmt.listSessionSnapshots.all(parse(StoreSessionIdSchema, sessionId, 'listSnapshots', 'sessionId'));
    return rows.map(toSnapshotInfo);
  }

  /** A snapshot with its payload, or null when there is none with this id. */
  getSnapshot(snapshotId: string): { info: SnapshotInfo; payload: unknown } | null {
    this.checkOpen();
    if (typeof snapshotId !== 'string') throw new Error('getSnapshot: the snapshot id must be a string');
    const row = this.stmt.getSnapshot.get(snapshotId);
    if (!row) return null;
    return { info: toSnapshotInfo(row), payload: decodePayload(row, `snapshot ${quote(snapshotId)}`) };
  }

  /** Delete a snapshot. Throws an Error naming the id when there is none. */
  deleteSnapshot(snapshotId: string): void {
    this.checkOpen();
    if (typeof snapshotId !== 'string') throw new Error('deleteSnapshot: the snapshot id must be a string');
    if (this.stmt.deleteSnapshot.run(snapshotId).changes === 0) throw new Error(`unknown snapshot ${quote(snapshotId)}`);
  }

  // ---------------------------------------------------------------- lifetime

  /**
   * Flush, end the recordings still in progress (stoppedReason 'closed: …', ended at their
   * latest update) and close the database. Idempotent; every other method throws afterwards.
   */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
      for (const active of [...this.active.values()]) {
        this.active.delete(active.id);
        this.stmt.endRecording.run(Math.max(active.startedAtMs, active.lastTMs ?? active.startedAtMs), CLOSED_REASON, active.key);
      }
    } finally {
      this.closed = true;
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      this.db.close();
    }
  }

  // ---------------------------------------------------------------- internals

  private checkOpen(): void {
    if (this.closed) throw new Error('the recording store is closed');
  }

  private flushIfPending(): void {
    if (this.pending.length > 0) this.flush();
  }

  private requireRecording(recordingId: string): RecordingRow {
    if (typeof recordingId !== 'string') throw new Error('the recording id must be a string');
    const row = this.stmt.recordingById.get(recordingId);
    if (!row) throw new Error(`unknown recording ${quote(recordingId)}`);
    return row;
  }

  private info(key: number): RecordingInfo {
    const row = this.stmt.recordingByKey.get(key);
    if (!row) throw new Error(`recording store: recording row ${key} vanished`);
    const info = toRecordingInfo(row);
    const active = this.active.get(row.id);
    if (active) {
      info.updates = active.updates;
      info.bytes = active.bytes;
      info.lastUpdateAtMs = active.lastTMs;
    }
    return info;
  }

  /** The store stops a recording (limit, failure): flush what it has, save the reason, tell the owner. */
  private stopByStore(active: Active, reason: string, flush = true): void {
    this.active.delete(active.id);
    if (flush) {
      // Its rows go with everybody else's; a failure here stops the others (not this one, already removed).
      this.flush();
    }
    this.pending = this.pending.filter((pending) => pending.active !== active);
    this.pendingBytes = this.pending.reduce((sum, pending) => sum + pending.bytes, 0);
    const end = Math.max(active.startedAtMs, active.lastTMs ?? active.startedAtMs);
    let info: RecordingInfo;
    try {
      this.stmt.endRecording.run(end, reason, active.key);
      info = this.info(active.key);
    } catch (error) {
      // Even the reason could not be saved; the next open marks the recording interrupted.
      info = {
        id: active.id, sessionId: '', name: '', startedAtMs: active.startedAtMs, endedAtMs: end,
        updates: active.updates, bytes: active.bytes, lastUpdateAtMs: active.lastTMs,
        stoppedReason: `${reason}; saving this reason failed too: ${messageOf(error)}`,
      };
    }
    this.onRecordingStopped?.(info);
  }
}

// ---------------------------------------------------------------- helpers

/** Every statement the store runs, prepared once. */
function prepareStatements(db: Database.Database) {
  const recordingColumns = `key, id, session_id, name, started_at_ms, ended_at_ms, updates, bytes, stopped_reason,
    (SELECT max(t_ms) FROM updates WHERE recording = recordings.key) AS last_update_at_ms`;
  return {
    recordingById: db.prepare<[string], RecordingRow>(`SELECT ${recordingColumns} FROM recordings WHERE id = ?`),
    recordingByKey: db.prepare<[number], RecordingRow>(`SELECT ${recordingColumns} FROM recordings WHERE key = ?`),
    listRecordings: db.prepare<[], RecordingRow>(`SELECT ${recordingColumns} FROM recordings ORDER BY started_at_ms DESC, key DESC`),
    countRecordings: db.prepare<[], number>('SELECT count(*) FROM recordings').pluck(),
    insertRecording: db.prepare<[string, string, string, number]>(
      'INSERT INTO recordings (id, session_id, name, started_at_ms) VALUES (?, ?, ?, ?)',
    ),
    endRecording: db.prepare<[number, string | null, number]>(
      'UPDATE recordings SET ended_at_ms = ?, stopped_reason = ? WHERE key = ?',
    ),
    deleteRecording: db.prepare<[number]>('DELETE FROM recordings WHERE key = ?'),
    deleteUpdates: db.prepare<[number]>('DELETE FROM updates WHERE recording = ?'),
    insertUpdate: db.prepare<[number, number, string, number, string | Buffer]>(
      'INSERT INTO updates (recording, t_ms, kind, encoding, payload) VALUES (?, ?, ?, ?, ?)',
    ),
    addCounters: db.prepare<[number, number, number]>(
      'UPDATE recordings SET updates = updates + ?, bytes = bytes + ? WHERE key = ?',
    ),
    readPage: db.prepare<[{ key: number; t: number; seq: number; to: number; kinds: string | null; limit: number }], UpdateRow>(
      `SELECT seq, t_ms, kind, encoding, payload FROM updates
       WHERE recording = @key AND (t_ms, seq) > (@t, @seq) AND t_ms <= @to
         AND (@kinds IS NULL OR kind IN (SELECT value FROM json_each(@kinds)))
       ORDER BY t_ms, seq LIMIT @limit`,
    ),
    insertSnapshot: db.prepare<[string, string, string, string, number, number, number, string | Buffer]>(
      'INSERT INTO snapshots (id, session_id, name, kind, taken_at_ms, bytes, encoding, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    countSnapshots: db.prepare<[], number>('SELECT count(*) FROM snapshots').pluck(),
    listSnapshots: db.prepare<[], SnapshotRow>(
      'SELECT id, session_id, name, kind, taken_at_ms, bytes FROM snapshots ORDER BY taken_at_ms DESC, id',
    ),
    listSessionSnapshots: db.prepare<[string], SnapshotRow>(
      'SELECT id, session_id, name, kind, taken_at_ms, bytes FROM snapshots WHERE session_id = ? ORDER BY taken_at_ms DESC, id',
    ),
    getSnapshot: db.prepare<[string], SnapshotRow & { encoding: number; payload: string | Buffer }>(
      'SELECT id, session_id, name, kind, taken_at_ms, bytes, encoding, payload FROM snapshots WHERE id = ?',
    ),
    deleteSnapshot: db.prepare<[string]>('DELETE FROM snapshots WHERE id = ?'),
  };
}

/** Check that `db` is a probeboard database (or a new empty file), migrate it, and set its pragmas. */
function prepareDatabase(db: Database.Database, file: string, readOnly = false): void {
  let applicationId: number;
  let version: number;
  let objects: number;
  try {
    applicationId = db.pragma('application_id', { simple: true }) as number;
    version = db.pragma('user_version', { simple: true }) as number;
    objects = db.prepare<[], number>('SELECT count(*) FROM sqlite_schema').pluck().get()!;
  } catch (error) {
    if (isSqliteError(error, 'SQLITE_NOTADB')) {
      throw new Error(`${file} is not a probeboard database (not an SQLite file); move it away or choose another data directory`);
    }
    throw new Error(`recording store: cannot read ${file}: ${messageOf(error)}`);
  }
  const fresh = applicationId === 0 && version === 0 && objects === 0;
  if (!fresh && applicationId !== APPLICATION_ID) {
    throw new Error(
      `${file} is not a probeboard database (an SQLite file of another application: application_id ${applicationId}); move it away or choose another data directory`,
    );
  }
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `${file} was written by a newer probeboard (schema version ${version}; this one reads up to ${SCHEMA_VERSION}); upgrade probeboard or choose another data directory`,
    );
  }
  if (readOnly) {
    if (version !== SCHEMA_VERSION) {
      throw new Error(`${file} has schema version ${version}; this probeboard reads ${SCHEMA_VERSION} (start the server on it once to upgrade it)`);
    }
    return;
  }
  // auto_vacuum must be chosen before the first table: deleted recordings give their pages back.
  if (fresh) db.pragma('auto_vacuum = INCREMENTAL');
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal') throw new Error(`recording store: ${file} cannot use WAL mode (journal_mode is ${String(mode)})`);
  db.pragma('synchronous = NORMAL');
  migrate(db, version);
}

function encodePayload(payload: unknown, what: string): Encoded {
  let json: string | undefined;
  try {
    json = JSON.stringify(payload);
  } catch (error) {
    throw new Error(`${what}: the payload is not JSON-serialisable: ${messageOf(error)}`);
  }
  if (json === undefined) throw new Error(`${what}: the payload is not JSON-serialisable (${typeof payload})`);
  const bytes = Buffer.byteLength(json);
  if (bytes >= COMPRESS_MIN_BYTES) {
    const deflated = deflateRawSync(json, { level: 1 });
    if (deflated.length <= bytes * 0.9) return { encoding: ENCODING_DEFLATE, payload: deflated, bytes: deflated.length };
  }
  return { encoding: ENCODING_JSON, payload: json, bytes };
}

function decodePayload(row: { encoding: number; payload: string | Buffer }, what: string): unknown {
  try {
    if (row.encoding === ENCODING_JSON && typeof row.payload === 'string') return JSON.parse(row.payload);
    if (row.encoding === ENCODING_DEFLATE && Buffer.isBuffer(row.payload)) return JSON.parse(inflateRawSync(row.payload).toString('utf8'));
  } catch (error) {
    throw new Error(`${what}: a stored payload is damaged: ${messageOf(error)}`);
  }
  throw new Error(`${what}: a stored payload has an unknown encoding ${row.encoding}`);
}

function toRecordingInfo(row: RecordingRow): RecordingInfo {
  return {
    id: row.id,
    sessionId: row.session_id,
    name: row.name,
    startedAtMs: row.started_at_ms,
    endedAtMs: row.ended_at_ms,
    updates: row.updates,
    bytes: row.bytes,
    lastUpdateAtMs: row.last_update_at_ms,
    stoppedReason: row.stopped_reason,
  };
}

function toSnapshotInfo(row: SnapshotRow): SnapshotInfo {
  return {
    id: row.id,
    sessionId: row.session_id,
    name: row.name,
    kind: row.kind as SnapshotKind,
    takenAtMs: row.taken_at_ms,
    bytes: row.bytes,
  };
}

/** 16 random bytes, base64url: 22 url-safe characters. */
/**
 * 128 random bits, base64url, never starting with `-` (an id given on a command line must not
 * look like an option).
 */
function randomId(): string {
  const id = randomBytes(16).toString('base64url');
  return id.startsWith('-') ? `A${id.slice(1)}` : id;
}

/** `input` checked against `schema` (lib/schema/recording.ts), or an Error naming `what` and the field. */
function parse<S extends v.GenericSchema>(schema: S, input: unknown, what: string, root?: string): v.InferOutput<S> {
  const checked = check(schema, input, { context: what, ...(root !== undefined && { root }) });
  if (!checked.ok) throw new Error(checked.error);
  return checked.value;
}

function positiveInteger(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`recording store option ${what} must be a positive integer, not ${String(value)}`);
  return value;
}

function isSqliteError(error: unknown, code: string): boolean {
  return error instanceof Error && (error as Error & { code?: unknown }).code === code;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A user-supplied id in an error message: quoted, and cut to 60 characters. */
function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '')} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1).replace(/\.0$/, '')} KiB`;
  return `${bytes} bytes`;
}
