/**
 * The dashboard's check of every message the server sends (useProfileSession's one receiving
 * place runs it before any handler or subscriber sees the message).
 *
 * Each message is checked against its schema (lib/schema/server-messages.ts; the big ones,
 * `profile:frame` and `events:batch`, with their bulk checked in place). A message that does not
 * fit, or whose name is unknown, is dropped and counted; the first of each name is reported
 * with its one-line reason (the caller shows it on the page and in the console), later ones are
 * only counted, so a server that sends a bad frame every second cannot flood the page. A dropped
 * flow-controlled message is still acknowledged by the caller, so the stream goes on. Never throws.
 *
 * Imports only lib/schema/server-messages.ts (the schemas of what the server sends), not the
 * request schemas: the dashboard bundles what it checks, nothing more.
 */
import { checkServerMessage, isServerMessageName, type ServerMessage, type ServerMessageName } from '../../lib/schema/server-messages.ts';

/** A message that passed: its name and checked payload (one of the typed pairs). */
export type ReceivedMessage = { [E in ServerMessageName]: { event: E; payload: ServerMessage<E> } }[ServerMessageName];

export class ServerMessageCheck {
  /** Messages dropped since the page loaded, by name. */
  readonly refused = new Map<string, number>();
  readonly #report: (event: string, reason: string) => void;

  /** `report`: told the first refusal of each message name, with the reason. */
  constructor(report: (event: string, reason: string) => void) {
    this.#report = report;
  }

  /** The checked message, or null when it was dropped (counted, and reported if first of its name). */
  admit(event: string, payload: unknown): ReceivedMessage | null {
    let reason: string;
    if (isServerMessageName(event)) {
      const checked = checkServerMessage(event, payload);
      if (checked.ok) return { event, payload: checked.value } as ReceivedMessage;
      reason = checked.error;
    } else {
      reason = `unknown message ${JSON.stringify(event.slice(0, 64))} from the server`;
    }
    const name = event.slice(0, 64);
    const count = (this.refused.get(name) ?? 0) + 1;
    this.refused.set(name, count);
    if (count === 1) {
      try {
        this.#report(name, reason);
      } catch {
        // a failing report must not stop the stream
      }
    }
    return null;
  }
}

/** The dashboard's own handlers, by message name; `ack` acknowledges a flow-controlled message (a no-op for others). */
export type MessageHandlers = { [E in ServerMessageName]?: (payload: ServerMessage<E>, ack: () => void) => void };

/**
 * Delivers one message as socket.io handed it (`args`: the payload, then the acknowledgement
 * callback of a flow-controlled message): checked first; then to the dashboard's own handler, or
 * else to the features' subscribers (payload, then the acknowledgement when there is one). A
 * message dropped, or that nobody takes, is acknowledged here, so the server sends the next one.
 */
export function deliver(
  messages: ServerMessageCheck,
  handlers: MessageHandlers,
  subscribers: ((payload: unknown, ...rest: unknown[]) => void)[] | undefined,
  event: string,
  args: unknown[],
): void {
  const last = args.at(-1);
  const ack = typeof last === 'function' ? (last as () => void) : () => undefined;
  const received = messages.admit(event, args[0]);
  if (received === null) return ack();
  // One typed pair (event, payload): the handler of that event takes that payload.
  const own = handlers[received.event] as ((payload: unknown, ack: () => void) => void) | undefined;
  if (own) own(received.payload, ack);
  else if (subscribers && subscribers.length > 0) {
    for (const listener of subscribers) listener(received.payload, ...(typeof last === 'function' ? [last] : []));
  } else ack();
}
