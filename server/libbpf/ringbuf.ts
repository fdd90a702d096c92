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
}

export class RingBuffer {
  #rb: ffi.Ptr | null;
  #callback: ffi.Ptr | null;
  #timer: NodeJS.Timeout | null = null;
  #recordError: Error | null = null;
  readonly #onRecord: (record: Buffer) => void;
  readonly #onError: ((error: Error) => void) | undefined;
  readonly mapName: string;

  /** Starts reading `map` (a ring buffer map of a loaded object). */
  constructor(map: BpfMap, onRecord: (record: Buffer) => void, options: RingBufferOptions = {}) {
    this.mapName = map.name;
    this.#onRecord = onRecord;
    this.#onError = options.onError;
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

  #deliver(data: ffi.Ptr, size: number): number {
    if (this.#recordError) return 0; // after a failure, drain the rest without delivering
    try {
      this.#onRecord(ffi.copyOut(data, size));
    } catch (error) {
      this.#recordError = error instanceof Error ? error : new Error(String(error));
    }
    return 0;
  }

  /** Delivers every record available now; returns how many were consumed. Never blocks. */
  consume(): number {
    if (this.#rb === null) throw new Error(`ring buffer ${this.mapName} is closed`);
    this.#recordError = null;
    const result = ffi.ring_buffer__consume(this.#rb);
    const recordError = this.#recordError as Error | null;
    this.#recordError = null;
    if (recordError) throw recordError;
    if (result < 0) throw new BpfError(`consuming ring buffer ${this.mapName}`, -result);
    return result;
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
