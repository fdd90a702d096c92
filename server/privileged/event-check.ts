/**
 * The web process's check of what the collector sends unasked (CollectorEvent), run by
 * CollectorClient on every event as it arrives, before any handle sees it.
 *
 * The collector is trusted to run the BPF side, not to be right about shapes: a collector of
 * another version, or a bug in it, must not put a wrong value into the hub's aggregates nor
 * stop the stream. So an event that does not fit its schema (lib/schema/collector.ts
 * COLLECTOR_EVENTS) is dropped and counted, the first refusal of each kind is reported with its
 * one-line reason (later ones of that kind are only counted, so a collector that sends a bad
 * event every interval cannot flood the log), and the next event is judged on its own.
 * Never throws.
 */
import { checkCollectorEvent } from '../../lib/schema/collector.ts';
import { isPlainObject } from '../../lib/schema/core.ts';
import type { CollectorEvent } from './protocol.ts';

export class CollectorEventCheck {
  /** Events refused since start, by kind (the event's `type`, or `unknown` when it has none we know). */
  readonly refused = new Map<string, number>();
  readonly #warn: (message: string) => void;

  /** `warn`: where the first refusal of each kind is told (default process.emitWarning: the web process's log). */
  constructor(warn: (message: string) => void = (message) => process.emitWarning(message)) {
    this.#warn = warn;
  }

  /** The checked event, or null when it was refused (counted, and reported if first of its kind). */
  admit(input: unknown): CollectorEvent | null {
    const checked = checkCollectorEvent(input);
    if (checked.ok) return checked.value;
    const type = isPlainObject(input) ? input.type : undefined;
    const kind = typeof type === 'string' && type.length <= 64 ? type : 'unknown';
    const count = (this.refused.get(kind) ?? 0) + 1;
    this.refused.set(kind, count);
    if (count === 1) {
      try {
        this.#warn(`collector event dropped (further malformed ${kind} events are counted, not logged): ${checked.error}`);
      } catch {
        // a failing logger must not stop the stream
      }
    }
    return null;
  }
}
