/**
 * RingBuffer: reads a BPF_MAP_TYPE_RINGBUF map without ever blocking the event loop.
 * libbpf's `ring_buffer__consume` (never `__poll`) runs on a timer; each record is copied into
 * a Buffer and handed to `onRecord` synchronously, in order.
 *
 * Lifetime: holds a libbpf `struct ring_buffer` and a registered koffi callback until
 * `close()` (or process exit); the timer keeps the process alive until then. The map must
 * outlive it (close the RingBuffer before its BpfObject).
 */
import * as ffi from './ffi.ts';
import { BpfError, checkPtr } from './errors.ts';
import { release, track } from './lifetime.ts';
import type { BpfMap } from './map.ts';

export interface RingBufferOptions {
  /** How often to drain, in ms (default 50). 0: no timer, call `consume()` yourself. */
  intervalMs?: number;
  /** Called when `onRecord` throws or consuming fails; the ring buffer keeps running. Default: rethrow on the timer. */
  onError?: (error: Error) => void;
  /**
   * Most records delivered per `consume()` (default: all available). What is left stays in the
   * kernel's ring for the next call, so a flood can never hold the event loop; when the ring
   * fills, the BPF program's output fails and the program counts the loss.
   */
  budget?: number;
  /**
   * Hand `onRecord` a Buffer over libbpf's memory instead of a copy (default false). Valid only
   * during the call: the ring space is released when it returns. Copy what must outlive it.
   */
  zeroCopy?: boolean;
}

export class RingBuffer {
  #rb: ffi.Ptr | null;
  #callback: ffi.Ptr | null;
  #timer: NodeJS.Timeout | null = null;
  #recordError: Error | null = null;
  #delivered = 0;
  readonly #onRecord: (record: Buffer) => void;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly #budget: number;
  readonly #zeroCopy: boolean;
  readonly mapName: string;

  /** Starts reading `map` (a ring buffer map of a loaded object). */
  constructor(map: BpfMap, onRecord: (record: Buffer) => void, options: RingBufferOptions = {}) {
    this.mapName = map.name;
    this.#onRecord = onRecord;
    this.#onError = options.onError;
    this.#budget = options.budget ?? Infinity;
    this.#zeroCopy = options.zeroCopy ?? false;
    const callback = ffi.registerCallback(
      ((_ctx: ffi.Ptr | null, data: ffi.Ptr, size: number | bigint) => this.#deliver(data, Number(size))) as (...args: never[]) => unknown,
      ffi.ring_buffer_sample_fn,
    );
    try {
      this.#rb = checkPtr(`opening ring buffer ${map.name}`, () => ffi.ring_buffer__new(map.fd, callback, null, null));
    } catch (error) {
      ffi.unregisterCallback(callback);
      throw error;
    }
    this.#callback = callback;
    track(this);
    const intervalMs = options.intervalMs ?? 50;
    if (intervalMs > 0) this.#timer = setInterval(() => this.#consumeOnTimer(), intervalMs);
  }

  /** libbpf's sample callback: returning -1 makes ring_buffer__consume stop after this record. */
  #deliver(data: ffi.Ptr, size: number): number {
    try {
      this.#onRecord(this.#zeroCopy ? ffi.viewOf(data, size) : ffi.copyOut(data, size));
    } catch (error) {
      this.#recordError = error instanceof Error ? error : new Error(String(error));
      return -1;
    }
    this.#delivered++;
    return this.#delivered >= this.#budget ? -1 : 0;
  }

  /** Delivers the records available now, up to the budget; returns how many. Never blocks. */
  consume(): number {
    if (this.#rb === null) throw new Error(`ring buffer ${this.mapName} is closed`);
    this.#recordError = null;
    this.#delivered = 0;
    const result = ffi.ring_buffer__consume(this.#rb);
    const recordError = this.#recordError as Error | null;
    this.#recordError = null;
    if (recordError) throw recordError;
    // A negative result after our own -1 (budget reached) is not an error.
    if (result < 0 && this.#delivered < this.#budget) throw new BpfError(`consuming ring buffer ${this.mapName}`, -result);
    return this.#delivered;
  }

  #consumeOnTimer(): void {
    try {
      this.consume();
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      if (this.#onError) this.#onError(err);
      else throw err;
    }
  }

  /** Stops the timer, frees the ring buffer, then unregisters the callback. Idempotent. */
  close(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#rb !== null) {
      ffi.ring_buffer__free(this.#rb);
      this.#rb = null;
    }
    if (this.#callback !== null) {
      ffi.unregisterCallback(this.#callback);
      this.#callback = null;
      release(this);
    }
  }
}
