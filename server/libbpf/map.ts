/**
 * BpfMap: typed-free access to one BPF map by fd. Keys and values are raw bytes (Buffers);
 * decoding belongs to server/abi.
 *
 * Lifetime: a BpfMap borrows its fd from the BpfObject that loaded it (or owns it when made by
 * `BpfMap.create`); it is unusable after that object is closed.
 */
import * as ffi from './ffi.ts';
import { BpfError, checkInt } from './errors.ts';
import { release, track } from './lifetime.ts';
import { possibleCpuCount } from './perf-event.ts';

/** enum bpf_map_type values used here. */
export const BPF_MAP_TYPE = {
  HASH: 1,
  ARRAY: 2,
  PERF_EVENT_ARRAY: 4,
  PERCPU_HASH: 5,
  PERCPU_ARRAY: 6,
  STACK_TRACE: 7,
  LRU_HASH: 9,
  LRU_PERCPU_HASH: 10,
  RINGBUF: 27,
} as const;

export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

const ENOENT = 2;
const ENOSPC = 28;
const EINVAL = 22;
const ENOTSUPP = 524;
const EOPNOTSUPP = 95;

/** Keys and values read from a map, index-aligned. */
export interface MapEntries {
  keys: Buffer[];
  values: Buffer[];
}

function isPerCpu(type: number): boolean {
  return type === BPF_MAP_TYPE.PERCPU_ARRAY || type === BPF_MAP_TYPE.PERCPU_HASH || type === BPF_MAP_TYPE.LRU_PERCPU_HASH;
}

/** The two batch reads of BPF_MAP_LOOKUP(_AND_DELETE)_BATCH. */
type BatchOperation = 'lookup' | 'lookupAndDelete';

export class BpfMap {
  readonly name: string;
  readonly type: number;
  /** Bytes. */
  readonly keySize: number;
  /** Bytes of one value as the BPF program sees it (one CPU's slot for per-CPU maps). */
  readonly valueSize: number;
  readonly maxEntries: number;
  #fd: number;
  readonly #owned: boolean;
  /** Per batch operation — null: not tried yet; false: the kernel refused it for this map (remembered). */
  readonly #batchWorks: Record<BatchOperation | 'update', boolean | null> = { lookup: null, lookupAndDelete: null, update: null };

  /** @internal Made by BpfObject.map() or BpfMap.create(). */
  constructor(fd: number, info: { name: string; type: number; keySize: number; valueSize: number; maxEntries: number }, owned: boolean) {
    this.#fd = fd;
    this.name = info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.#owned = owned;
    if (owned) track(this);
  }

  /** Creates a standalone map (bpf_map_create); the returned map owns its fd until `close()`. */
  static create(type: number, name: string, keySize: number, valueSize: number, maxEntries: number): BpfMap {
    const fd = checkInt(`creating ${name} map`, () => ffi.bpf_map_create(type, name, keySize, valueSize, maxEntries, null));
    return new BpfMap(fd, { name, type, keySize, valueSize, maxEntries }, true);
  }

  /** Whether `drain` could use batch operations: null until the first drain, then true or false. */
  get batchSupported(): boolean | null {
    return this.#batchWorks.lookupAndDelete;
  }

  /** The map fd; -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /** Bytes of a value buffer for lookups: for per-CPU maps, one 8-byte-aligned slot per possible CPU. */
  get lookupValueSize(): number {
    return isPerCpu(this.type) ? Math.ceil(this.valueSize / 8) * 8 * possibleCpuCount() : this.valueSize;
  }

  #checkOpen(): number {
    if (this.#fd < 0) throw new Error(`map ${this.name} is closed`);
    return this.#fd;
  }

  #checkKey(key: Buffer): void {
    if (key.length !== this.keySize) throw new RangeError(`map ${this.name}: key is ${key.length} bytes, expected ${this.keySize}`);
  }

  /** The value for `key`, or null when absent. */
  lookup(key: Buffer): Buffer | null {
    const fd = this.#checkOpen();
    this.#checkKey(key);
    const value = Buffer.alloc(this.lookupValueSize);
    const result = ffi.bpf_map_lookup_elem(fd, key, value);
    if (result === -ENOENT) return null;
    if (result < 0) throw new BpfError(`looking up in map ${this.name}`, -result);
    return value;
  }

  /** Sets `key` to `value` (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
  update(key: Buffer, value: Buffer, flags: number = BPF_ANY): void {
    const fd = this.#checkOpen();
    this.#checkKey(key);
    if (value.length !== this.lookupValueSize) throw new RangeError(`map ${this.name}: value is ${value.length} bytes, expected ${this.lookupValueSize}`);
    checkInt(`updating map ${this.name}`, () => ffi.bpf_map_update_elem(fd, key, value, flags));
  }

  /**
   * Writes `count` entries: `keys` holds count × keySize bytes and `values` count × lookupValueSize,
   * index-aligned. One `bpf_map_update_batch` syscall per `chunk` entries where the kernel has it
   * for this map type (5.6+), else one update per entry (remembered). Throws on the first entry
   * the kernel refuses; entries before it are written (a batch is not atomic).
   */
  updateBatch(keys: Buffer, values: Buffer, count: number, flags: number = BPF_ANY, chunk = 65536): void {
    const fd = this.#checkOpen();
    const valueSize = this.lookupValueSize;
    if (keys.length < count * this.keySize || values.length < count * valueSize) {
      throw new RangeError(`map ${this.name}: ${count} entries need ${count * this.keySize} key and ${count * valueSize} value bytes, got ${keys.length} and ${values.length}`);
    }
    const opts = Buffer.alloc(24); // struct bpf_map_batch_opts { size_t sz; __u64 elem_flags; __u64 flags; }
    opts.writeBigUInt64LE(24n, 0);
    opts.writeBigUInt64LE(BigInt(flags), 8);
    const n = Buffer.alloc(4);
    for (let done = 0; done < count; ) {
      const step = Math.min(chunk, count - done);
      const k = keys.subarray(done * this.keySize, (done + step) * this.keySize);
      const v = values.subarray(done * valueSize, (done + step) * valueSize);
      if (this.#batchWorks.update !== false) {
        n.writeUInt32LE(step, 0);
        const result = ffi.bpf_map_update_batch(fd, k, v, n, opts);
        if (result === 0) {
          this.#batchWorks.update = true;
          done += step;
          continue;
        }
        const errno = -result;
        if (!(this.#batchWorks.update === null && (errno === EINVAL || errno === ENOTSUPP || errno === EOPNOTSUPP))) {
          throw new BpfError(`updating map ${this.name} (batch, entry ${done + n.readUInt32LE(0)})`, errno);
        }
        this.#batchWorks.update = false;
      }
      for (let i = 0; i < step; i++) {
        checkInt(`updating map ${this.name}`, () => ffi.bpf_map_update_elem(fd, k.subarray(i * this.keySize, (i + 1) * this.keySize), v.subarray(i * valueSize, (i + 1) * valueSize), flags));
      }
      done += step;
    }
  }

  /** Deletes `key`; false when it was absent. */
  delete(key: Buffer): boolean {
    const fd = this.#checkOpen();
    this.#checkKey(key);
    const result = ffi.bpf_map_delete_elem(fd, key);
    if (result === -ENOENT) return false;
    if (result < 0) throw new BpfError(`deleting from map ${this.name}`, -result);
    return true;
  }

  /** Every key, by get_next_key iteration (a snapshot; concurrent writers may add or remove keys). */
  keys(): Buffer[] {
    const fd = this.#checkOpen();
    const keys: Buffer[] = [];
    let previous: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      const result = ffi.bpf_map_get_next_key(fd, previous, next);
      if (result === -ENOENT) break;
      if (result < 0) throw new BpfError(`iterating map ${this.name}`, -result);
      keys.push(next);
      previous = next;
      if (keys.length > this.maxEntries * 2) break; // a map changing under us: stop rather than spin
    }
    return keys;
  }

  /**
   * Reads every entry and deletes it: one `bpf_map_lookup_and_delete_batch` pass where the kernel
   * supports it for this map type, else get_next_key + lookup + delete. Only call on a map no BPF
   * program is writing (e.g. the inactive half of a double buffer), or entries may be missed.
   */
  drain(): MapEntries {
    if (this.#batchWorks.lookupAndDelete !== false) {
      // A chunk of the whole map: one syscall per drain in the usual case.
      const batch = this.#readBatches('lookupAndDelete', this.maxEntries);
      if (batch !== null) return batch;
    }
    const keys = this.keys();
    const entries: MapEntries = { keys: [], values: [] };
    for (const key of keys) {
      const value = this.lookup(key);
      if (value === null) continue;
      this.delete(key);
      entries.keys.push(key);
      entries.values.push(value);
    }
    return entries;
  }

  /**
   * Reads every entry without deleting: `bpf_map_lookup_batch` in chunks of `chunk` entries
   * (one syscall each) where the kernel supports it, else get_next_key + lookup per key.
   * Safe while BPF programs write: a concurrent insert may or may not be seen, and a value is
   * whatever it was when its chunk was copied.
   */
  snapshot(chunk = 256): MapEntries {
    if (this.#batchWorks.lookup !== false) {
      const batch = this.#readBatches('lookup', chunk);
      if (batch !== null) return batch;
    }
    const entries: MapEntries = { keys: [], values: [] };
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value === null) continue;
      entries.keys.push(key);
      entries.values.push(value);
    }
    return entries;
  }

  /**
   * Every entry through one batch operation, `chunkWanted` entries per syscall, or null when the
   * kernel refuses that operation for this map (remembered). When one hash bucket holds more
   * entries than a chunk (ENOSPC: nothing of that bucket was copied or deleted), the same
   * position is retried with a larger chunk.
   */
  #readBatches(operation: BatchOperation, chunkWanted: number): MapEntries | null {
    const fd = this.#checkOpen();
    const call = operation === 'lookup' ? ffi.bpf_map_lookup_batch : ffi.bpf_map_lookup_and_delete_batch;
    const valueSize = this.lookupValueSize;
    let chunk = Math.max(1, Math.min(chunkWanted, this.maxEntries));
    let keys = Buffer.alloc(chunk * this.keySize);
    let values = Buffer.alloc(chunk * valueSize);
    const count = Buffer.alloc(4);
    const outBatch = Buffer.alloc(Math.max(8, this.keySize));
    let inBatch: Buffer | null = null;
    const entries: MapEntries = { keys: [], values: [] };
    for (;;) {
      count.writeUInt32LE(chunk, 0);
      const result = call(fd, inBatch, outBatch, keys, values, count, null);
      const errno = result < 0 ? -result : 0;
      if (errno === ENOSPC && chunk < this.maxEntries) {
        chunk = Math.min(this.maxEntries, chunk * 4);
        keys = Buffer.alloc(chunk * this.keySize);
        values = Buffer.alloc(chunk * valueSize);
        continue;
      }
      if (errno !== 0 && errno !== ENOENT) {
        if (this.#batchWorks[operation] === null && (errno === EINVAL || errno === ENOTSUPP || errno === EOPNOTSUPP)) {
          this.#batchWorks[operation] = false;
          return null;
        }
        throw new BpfError(`reading map ${this.name} (batch)`, errno);
      }
      this.#batchWorks[operation] = true;
      const n = count.readUInt32LE(0);
      for (let i = 0; i < n; i++) {
        entries.keys.push(Buffer.from(keys.subarray(i * this.keySize, (i + 1) * this.keySize)));
        entries.values.push(Buffer.from(values.subarray(i * valueSize, (i + 1) * valueSize)));
      }
      if (errno === ENOENT) return entries;
      inBatch = Buffer.from(outBatch);
    }
  }

  /** Deletes every entry (batch where possible). */
  clear(): void {
    this.drain();
  }

  /** Releases the fd if this map owns it (standalone maps); maps of an object close with it. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    if (this.#owned) {
      release(this);
      ffi.close(fd);
    }
  }

  /** @internal Called by the owning BpfObject when it closes. */
  invalidate(): void {
    this.#fd = -1;
  }
}
