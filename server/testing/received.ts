/**
 * Waiting for what a real socket.io client receives, instead of polling on a timer: a test
 * names the condition, and it is re-checked each time a message arrives.
 */

import type { Socket } from 'socket.io-client';

/** The part of a socket.io client (typed with any event maps, or not) this needs. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Receiver = Pick<Socket<any, any>, 'onAny' | 'offAny'>;

/**
 * Resolves once `condition()` holds: checked now and after every message any of `sockets`
 * receives. Rejects after `timeoutMs` (ms) naming `what`, with `values()` (what was seen) when
 * given. socket.io calls onAny listeners before the event's own handlers, so each check waits
 * one microtask for those handlers to record the message.
 */
export function untilReceived(
  sockets: Receiver | Receiver[],
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
  values?: () => string,
): Promise<void> {
  const all = Array.isArray(sockets) ? sockets : [sockets];
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error) => {
      done = true;
      clearTimeout(timer);
      for (const socket of all) socket.offAny(onMessage);
      if (error) reject(error);
      else resolve();
    };
    const check = () => {
      if (done) return;
      try {
        if (condition()) finish();
      } catch (error) {
        finish(error as Error);
      }
    };
    const onMessage = () => queueMicrotask(check);
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${values ? ` (${values()})` : ''}`)), timeoutMs);
    for (const socket of all) socket.onAny(onMessage);
    check();
  });
}
