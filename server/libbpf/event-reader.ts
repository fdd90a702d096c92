/**
 * Readers for event streams, with a bound on the work done per read, and the libbpf calls
 * the events collector needs beyond ffi.ts/attach-probes.ts.
 *
 * - BoundedRingReader: a BPF ring buffer read with `ring_buffer__consume`, stopping after
 *   `budget` records per call (the callback returns -1, which makes libbpf stop after the
 *   record in hand). Whatever is left stays in the kernel's ring; when the ring is full the
 *   BPF program's output fails and it counts the loss. So a flood can never make one read
 *   block the event loop, nor make user space buffer without bound.
 * - PerfBufferReader: the fallback for kernels without a ring buffer (`perf_buffer__new`,
 *   `perf_buffer__consume`); per-CPU losses reported by the kernel are added up.
 * - attachTracepoint: `bpf_program__attach_tracepoint_opts` with a BPF cookie.
 * - useArrayInsteadOfRingbuf: retypes the ring buffer map before load on kernels without
 *   BPF_MAP_TYPE_RINGBUF (the program must not reach it: a `const volatile` flag).
 *
 * Lifetime: each reader holds a libbpf object and a koffi callback until `close()` (or
 * process exit); close it before the BpfObject whose map it reads.
 */
import koffi from 'koffi';
import * as ffi from './ffi.ts';
import { BpfError, checkInt, checkPtr } from './errors.ts';
import { release, track } from './lifetime.ts';
import { BpfLink } from './link.ts';
import type { BpfMap } from './map.ts';
import type { BpfObject } from './object.ts';
import { programPointer } from './attach-probes.ts';
import { RingBuffer } from './ringbuf.ts';

koffi.opaque('perf_buffer');
const fn = ffi.libbpfFunction;

/** `void (*perf_buffer_sample_fn)(void *ctx, int cpu, void *data, __u32 size)`. */
const perf_buffer_sample_fn = koffi.proto('void perf_buffer_sample_fn(void *ctx, int cpu, void *data, uint32_t size)');
/** `void (*perf_buffer_lost_fn)(void *ctx, int cpu, __u64 cnt)`. */
const perf_buffer_lost_fn = koffi.proto('void perf_buffer_lost_fn(void *ctx, int cpu, uint64_t cnt)');

const perf_buffer__new = fn<[mapFd: number, pageCnt: number, sampleCb: ffi.Ptr, lostCb: ffi.Ptr, ctx: ffi.Mem, opts: ffi.Mem], ffi.Ptr | null>(
  'perf_buffer *perf_buffer__new(int map_fd, size_t page_cnt, void *sample_cb, void *lost_cb, void *ctx, const void *opts)',
);
const perf_buffer__consume = fn<[pb: ffi.Ptr], number>('int perf_buffer__consume(perf_buffer *pb)');
const perf_buffer__free = fn<[pb: ffi.Ptr], void>('void perf_buffer__free(perf_buffer *pb)');
const bpf_program__attach_tracepoint_opts = fn<[prog: ffi.Ptr, category: string, name: string, opts: ffi.Mem], ffi.Ptr | null>(
  'void *bpf_program__attach_tracepoint_opts(void *prog, const char *tp_category, const char *tp_name, const void *opts)',
);
const bpf_map__set_type = fn<[map: ffi.Ptr, type: number], number>('int bpf_map__set_type(void *map, uint32_t type)');
const bpf_map__set_key_size = fn<[map: ffi.Ptr, size: number], number>('int bpf_map__set_key_size(void *map, uint32_t size)');
const bpf_map__set_value_size = fn<[map: ffi.Ptr, size: number], number>('int bpf_map__set_value_size(void *map, uint32_t size)');


/** What both readers offer. `onRecord` gets a Buffer valid only during the call (see `view`). */
export interface EventReader {
  /** Delivers up to the budget of records available now; returns how many. Never blocks. */
  consume(): number;
  /** Records the kernel reported lost to this reader (perf buffer only; ring buffer losses are counted by the BPF program). */
  readonly kernelLost: number;
  close(): void;
}

/** Reads a ring buffer map, at most `budget` records per `consume()` (see RingBuffer). */
export class BoundedRingReader implements EventReader {
  readonly #ring: RingBuffer;
  readonly kernelLost = 0;

  constructor(map: BpfMap, onRecord: (record: Buffer) => void, budget: number) {
    this.#ring = new RingBuffer(map, onRecord, { intervalMs: 0, budget, zeroCopy: true });
  }

  consume(): number {
    return this.#ring.consume();
  }

  close(): void {
    this.#ring.close();
  }
}

/** Reads a BPF_MAP_TYPE_PERF_EVENT_ARRAY map (one buffer of `pageCount` pages per CPU). */
export class PerfBufferReader implements EventReader {
  #pb: ffi.Ptr | null;
  #sample: ffi.Ptr | null;
  #lost: ffi.Ptr | null;
  #kernelLost = 0;
  #delivered = 0;
  #error: Error | null = null;

  constructor(map: BpfMap, private readonly onRecord: (record: Buffer) => void, pageCount = 64) {
    const sample = koffi.register(
      ((_ctx: ffi.Ptr | null, _cpu: number, data: ffi.Ptr, size: number) => {
        this.#delivered++;
        if (this.#error) return;
        try {
          this.onRecord(ffi.viewOf(data, size)); // valid only during the call, as with the ring buffer
        } catch (error) {
          this.#error = error instanceof Error ? error : new Error(String(error));
        }
      }) as (...args: never[]) => unknown,
      koffi.pointer(perf_buffer_sample_fn),
    );
    const lost = koffi.register(
      ((_ctx: ffi.Ptr | null, _cpu: number, count: number | bigint) => {
        this.#kernelLost += Number(count);
      }) as (...args: never[]) => unknown,
      koffi.pointer(perf_buffer_lost_fn),
    );
    try {
      this.#pb = checkPtr(`opening perf buffer ${map.name}`, () => perf_buffer__new(map.fd, pageCount, sample, lost, null, null));
    } catch (error) {
      koffi.unregister(sample);
      koffi.unregister(lost);
      throw error;
    }
    this.#sample = sample;
    this.#lost = lost;
    track(this);
  }

  get kernelLost(): number {
    return this.#kernelLost;
  }

  consume(): number {
    if (this.#pb === null) throw new Error('perf buffer reader is closed');
    this.#delivered = 0;
    this.#error = null;
    const result = perf_buffer__consume(this.#pb);
    const error = this.#error as Error | null;
    if (error) throw error;
    if (result < 0) throw new BpfError('consuming the events perf buffer', -result);
    return this.#delivered;
  }

  close(): void {
    if (this.#pb !== null) {
      perf_buffer__free(this.#pb);
      this.#pb = null;
    }
    for (const cb of [this.#sample, this.#lost]) if (cb !== null) koffi.unregister(cb);
    if (this.#sample !== null) release(this);
    this.#sample = null;
    this.#lost = null;
  }
}

/* struct bpf_tracepoint_opts (libbpf 1.1): size_t sz @0; __u64 bpf_cookie @8; size 16. */
const TRACEPOINT_OPTS_SIZE = 16;

/** Attaches a SEC("tracepoint") program to CATEGORY:NAME with a cookie (read by bpf_get_attach_cookie). */
export function attachTracepoint(object: BpfObject, program: string, category: string, name: string, cookie: number): BpfLink {
  const prog = programPointer(object, program);
  const opts = Buffer.alloc(TRACEPOINT_OPTS_SIZE);
  opts.writeBigUInt64LE(BigInt(TRACEPOINT_OPTS_SIZE), 0);
  opts.writeBigUInt64LE(BigInt(cookie), 8);
  const ptr = checkPtr(`attaching ${program} to tracepoint ${category}:${name}`, () => bpf_program__attach_tracepoint_opts(prog, category, name, opts));
  return object.adopt(new BpfLink(ptr, `${program} -> tracepoint ${category}:${name}`));
}

const BPF_MAP_TYPE_ARRAY = 2;

/**
 * Before load, on a kernel without BPF_MAP_TYPE_RINGBUF: turns ring buffer map `mapName` into a
 * one-entry array so that the object loads (the programs must not use it: pass use_perfbuf).
 */
export function useArrayInsteadOfRingbuf(object: BpfObject, mapName: string): void {
  const obj = object.assertOpen();
  const map = checkPtr(`finding map ${mapName}`, () => ffi.bpf_object__find_map_by_name(obj, mapName));
  checkInt(`retyping map ${mapName}`, () => bpf_map__set_type(map, BPF_MAP_TYPE_ARRAY));
  checkInt(`resizing map ${mapName} keys`, () => bpf_map__set_key_size(map, 4));
  checkInt(`resizing map ${mapName} values`, () => bpf_map__set_value_size(map, 8));
  checkInt(`resizing map ${mapName}`, () => ffi.bpf_map__set_max_entries(map, 1));
}
