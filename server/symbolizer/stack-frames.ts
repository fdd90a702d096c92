/**
 * Frames the symbolizer makes that stand for something other than a function: the stand-in for
 * a stack the kernel could not record, and the waker tail of an off-CPU sample. Here, not in the
 * aggregator, because the collector side builds them (server/collectors/local.ts) and the
 * aggregator only draws them.
 */
import type { Frame, StackErrorKind } from './types.ts';

/** Name of the frame standing in for a stack the kernel could not record. */
export function lostStackName(kind: StackErrorKind): string {
  return `[lost stack: ${kind}]`;
}

/** Name of the frame between a blocked stack and its waker's, as in bcc's offwaketime. */
export const WAKER_SEPARATOR = '--';

/** The waker tail of a sample (see SymbolizedSample.waker): `--`, waker kernel and user frames leaf first, waker comm. */
export function wakerTail(waker: { comm: string; user: Frame[]; kernel: Frame[]; userStackError?: StackErrorKind; kernelStackError?: StackErrorKind }): Frame[] {
  const tail: Frame[] = [{ name: WAKER_SEPARATOR, kind: 'x' }];
  if (waker.kernelStackError) tail.push({ name: lostStackName(waker.kernelStackError), kind: 'x' });
  else for (let i = waker.kernel.length - 1; i >= 0; i--) tail.push(waker.kernel[i]);
  if (waker.userStackError) tail.push({ name: lostStackName(waker.userStackError), kind: 'x' });
  else for (let i = waker.user.length - 1; i >= 0; i--) tail.push(waker.user[i]);
  tail.push({ name: waker.comm, kind: 'p' });
  return tail;
}
