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
import {
  checkCollectorRequest,
  checkHostCommand,
  type CollectorEvent,
  type CollectorOp,
  type CollectorRequest,
  type EventRowData,
  type HostCommand,
  type InternedIntervalData,
  type LatencyBatchData,
  type ProfileWireMessage,
} from '../../lib/schema/collector.ts';
import type { Result } from '../../lib/schema/core.ts';
import type { EventRow } from '../../lib/protocol-events.ts';
import type { LatencyBatch } from '../collectors/latency.ts';
import type { CollectorWireMessage } from '../collectors/types.ts';
import type { InternedInterval } from '../symbolizer/interned.ts';

export { MAX_ID, MAX_PATH_LENGTH } from '../../lib/schema/collector.ts';
export { EVENT_KINDS, type EventKind } from '../../lib/schema/events.ts';
export type { CollectorOp, CollectorRequest, HostCommand };

// ---------------------------------------------------------------------------------------
// Commands (web -> collector)

import type { CollectorReply, CommandResults, EventCounts } from '../../lib/schema/collector.ts';
export type { CollectorReply, CommandResults, EventCounts };

// ---------------------------------------------------------------------------------------
// Events (collector -> web): schemas in lib/schema/collector.ts (COLLECTOR_EVENTS), checked by
// the web process on arrival (event-check.ts). Types inferred from the schemas:
//   ready · profile (intervals interned) · latency.interval · latency.end · events.rows · events.end

/** One event as it crosses the channel: a row without its number (the web process numbers them). */
export type { CollectorEvent, EventRowData };

/**
 * The schemas describe the types the collectors produce, which are declared where they are made
 * (lib/ cannot import server/): these fail to compile when the two drift apart, either way.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShapes: [
  Same<LatencyBatchData, LatencyBatch>,
  Same<InternedIntervalData, InternedInterval>,
  Same<ProfileWireMessage, CollectorWireMessage>,
  Same<EventRowData, Omit<EventRow, 'n'>>,
] = [true, true, true, true];
void sameShapes;

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
