/**
 * The private channel between the web process (unprivileged) and the collector process (holds
 * the BPF privileges): every command (schemas in lib/schema/collector.ts, which the collector
 * checks every request against before it touches anything), reply and event.
 *
 * Rules (the collector enforces them, whoever sent the request):
 * - A request is `{ id, command }`: `id` a positive integer, `command` one of the shapes below
 *   and nothing else (an unknown field, op or type is refused by name).
 * - No code and no shell text crosses: probe specs are parsed with the grammars of
 *   lib/probe-spec.ts and lib/event-spec.ts; binaries are absolute, normalized paths or bare
 *   library names (`c`, `pthread`) that the collector resolves itself; pids are whole numbers
 *   from 1 to 4194304; strings have maximum lengths and no control characters; kinds come from
 *   fixed lists. The BPF objects loaded are always the committed ones (bpf/obj/).
 * - Every request gets exactly one reply, `{ type: 'reply', id, ok, value | error }`; a refused
 *   request changes nothing.
 * - Each profile source, latency set and event probe the web process opens has a `handle` (a
 *   positive integer it picks); events from the collector carry it.
 */
import type { EventRow } from '../../lib/protocol-events.ts';
import { checkCollectorRequest, checkHostCommand, type CollectorOp, type CollectorRequest, type HostCommand } from '../../lib/schema/collector.ts';
import type { Result } from '../../lib/schema/core.ts';
import type { LatencyBatch } from '../collectors/latency.ts';
import type { CollectorWireMessage } from '../collectors/types.ts';

export { MAX_ID, MAX_PATH_LENGTH } from '../../lib/schema/collector.ts';
export { EVENT_KINDS, type EventKind } from '../../lib/schema/events.ts';
export type { CollectorOp, CollectorRequest, HostCommand };

// ---------------------------------------------------------------------------------------
// Commands (web -> collector)

import type { CollectorReply, CommandResults, EventCounts } from '../../lib/schema/collector.ts';
export type { CollectorReply, CommandResults, EventCounts };

/** One event as it crosses the channel: a row without its number (the web process numbers them). */
export type EventRowData = Omit<EventRow, 'n'>;


// ---------------------------------------------------------------------------------------
// Events (collector -> web)

export type CollectorEvent =
  /** Sent once, when the collector process is ready for requests. */
  | { type: 'ready'; pid: number; uid: number }
  /** A profile handle's message; intervals in interned form. */
  | { type: 'profile'; handle: number; message: CollectorWireMessage }
  /** A latency probe's newest interval (the web process folds it into the probe's frame). */
  | { type: 'latency.interval'; handle: number; id: string; batch: LatencyBatch }
  /** A latency probe ended by itself (its read failed); it is detached. */
  | { type: 'latency.end'; handle: number; id: string; reason: string }
  /** New rows (oldest first) and the probe's counters now. */
  | { type: 'events.rows'; handle: number; rows: EventRowData[]; counts: EventCounts }
  /** The event probe ended by itself (its pid exited, or reading failed); it is detached. */
  | { type: 'events.end'; handle: number; reason: string; counts: EventCounts };

/** Anything the collector sends. */
export type CollectorOutput = CollectorReply | CollectorEvent;

// ---------------------------------------------------------------------------------------
// Validation: the schemas of lib/schema/collector.ts

/** Checks one command; returns a fresh, typed copy (never the input object). */
export function checkCommand(input: unknown): Result<HostCommand> {
  return checkHostCommand(input);
}

/** Checks a whole request. A request without a usable id gets `id: null` in the refusal. */
export const checkRequest = checkCollectorRequest;
