/**
 * koffi prototypes for the parts of libbpf (libbpf.so.1, 1.1 API) and libc that probeboard uses.
 * One binding per C function, same name, no logic: higher layers (object.ts, map.ts, …) add
 * error handling and lifetimes.
 *
 * Conventions (koffi 3): C pointers to libbpf objects come back as `bigint` addresses, `0n`
 * never, `null` for NULL. Input buffers are Node `Buffer`s. `long`/`size_t`/`u64` arguments
 * accept number or bigint. After a libbpf call that fails, read `errno()` at once.
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

/** Address of a libbpf object (`struct bpf_object *` etc.). Valid until its owner is closed. */
export type Ptr = bigint;
/** Memory koffi can pass as `void *`: a Node Buffer, or a raw address. */
export type Mem = Buffer | bigint | null;

const libbpf = koffi.load('libbpf.so.1');
const libc = koffi.load('libc.so.6');

koffi.opaque('bpf_object');
koffi.opaque('bpf_program');
koffi.opaque('bpf_map');
koffi.opaque('bpf_link');
koffi.opaque('btf');
koffi.opaque('ring_buffer');

/** `int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *fmt, va_list args)` (x86_64: va_list decays to a pointer). */
export const libbpf_print_fn_t = koffi.proto('int libbpf_print_fn_t(int level, void *fmt, void *args)');
/** `int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size)`. */
export const ring_buffer_sample_fn = koffi.proto('int ring_buffer_sample_fn(void *ctx, void *data, size_t size)');

type Fn<A extends unknown[], R> = (...args: A) => R;
function fn<A extends unknown[], R>(lib: LibraryHandle, decl: string): Fn<A, R> {
  return lib.func(decl) as unknown as Fn<A, R>;
}

/**
 * A binding of one more libbpf function, for modules that keep theirs next to their use
 * (attach-probes.ts, event-reader.ts): the library is loaded once, here, for the whole process.
 */
export function libbpfFunction<A extends unknown[], R>(decl: string): Fn<A, R> {
  return fn<A, R>(libbpf, decl);
}

// --- libbpf: objects and programs ---
export const bpf_object__open_file = fn<[path: string, opts: Mem], Ptr | null>(libbpf, 'bpf_object *bpf_object__open_file(const char *path, const void *opts)');
export const bpf_object__load = fn<[obj: Ptr], number>(libbpf, 'int bpf_object__load(bpf_object *obj)');
export const bpf_object__close = fn<[obj: Ptr], void>(libbpf, 'void bpf_object__close(bpf_object *obj)');
export const bpf_object__btf = fn<[obj: Ptr], Ptr | null>(libbpf, 'btf *bpf_object__btf(const bpf_object *obj)');
export const bpf_object__find_program_by_name = fn<[obj: Ptr, name: string], Ptr | null>(libbpf, 'bpf_program *bpf_object__find_program_by_name(const bpf_object *obj, const char *name)');
export const bpf_object__find_map_by_name = fn<[obj: Ptr, name: string], Ptr | null>(libbpf, 'bpf_map *bpf_object__find_map_by_name(const bpf_object *obj, const char *name)');
export const bpf_object__next_program = fn<[obj: Ptr, prev: Ptr | null], Ptr | null>(libbpf, 'bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)');
export const bpf_object__next_map = fn<[obj: Ptr, prev: Ptr | null], Ptr | null>(libbpf, 'bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *prev)');
export const bpf_program__name = fn<[prog: Ptr], string>(libbpf, 'const char *bpf_program__name(const bpf_program *prog)');
export const bpf_program__fd = fn<[prog: Ptr], number>(libbpf, 'int bpf_program__fd(const bpf_program *prog)');
export const bpf_program__set_autoload = fn<[prog: Ptr, autoload: boolean], number>(libbpf, 'int bpf_program__set_autoload(bpf_program *prog, bool autoload)');
export const bpf_program__autoload = fn<[prog: Ptr], boolean>(libbpf, 'bool bpf_program__autoload(const bpf_program *prog)');

// --- libbpf: maps ---
export const bpf_map__name = fn<[map: Ptr], string>(libbpf, 'const char *bpf_map__name(const bpf_map *map)');
export const bpf_map__fd = fn<[map: Ptr], number>(libbpf, 'int bpf_map__fd(const bpf_map *map)');
export const bpf_map__type = fn<[map: Ptr], number>(libbpf, 'int bpf_map__type(const bpf_map *map)');
export const bpf_map__key_size = fn<[map: Ptr], number>(libbpf, 'uint32_t bpf_map__key_size(const bpf_map *map)');
export const bpf_map__value_size = fn<[map: Ptr], number>(libbpf, 'uint32_t bpf_map__value_size(const bpf_map *map)');
export const bpf_map__max_entries = fn<[map: Ptr], number>(libbpf, 'uint32_t bpf_map__max_entries(const bpf_map *map)');
export const bpf_map__set_max_entries = fn<[map: Ptr, maxEntries: number], number>(libbpf, 'int bpf_map__set_max_entries(bpf_map *map, uint32_t max_entries)');
export const bpf_map__initial_value = fn<[map: Ptr, psize: number[]], Ptr | null>(libbpf, 'void *bpf_map__initial_value(bpf_map *map, _Out_ size_t *psize)');

// --- libbpf: low-level map syscalls (bpf.h) ---
export const bpf_map_create = fn<[mapType: number, name: string | null, keySize: number, valueSize: number, maxEntries: number, opts: Mem], number>(libbpf, 'int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const void *opts)');
export const bpf_map_lookup_elem = fn<[fd: number, key: Mem, value: Mem], number>(libbpf, 'int bpf_map_lookup_elem(int fd, const void *key, void *value)');
export const bpf_map_update_elem = fn<[fd: number, key: Mem, value: Mem, flags: number | bigint], number>(libbpf, 'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)');
export const bpf_map_delete_elem = fn<[fd: number, key: Mem], number>(libbpf, 'int bpf_map_delete_elem(int fd, const void *key)');
export const bpf_map_get_next_key = fn<[fd: number, key: Mem, nextKey: Mem], number>(libbpf, 'int bpf_map_get_next_key(int fd, const void *key, void *next_key)');
/** `count` is in/out: a 4-byte Buffer holding a u32. */
export const bpf_map_lookup_batch = fn<[fd: number, inBatch: Mem, outBatch: Mem, keys: Mem, values: Mem, count: Buffer, opts: Mem], number>(libbpf, 'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)');
export const bpf_map_lookup_and_delete_batch = fn<[fd: number, inBatch: Mem, outBatch: Mem, keys: Mem, values: Mem, count: Buffer, opts: Mem], number>(libbpf, 'int bpf_map_lookup_and_delete_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, void *count, const void *opts)');
/** `count` is in/out: a 4-byte Buffer holding a u32 (entries to write; entries written). */
export const bpf_map_update_batch = fn<[fd: number, keys: Mem, values: Mem, count: Buffer, opts: Mem], number>(libbpf, 'int bpf_map_update_batch(int fd, const void *keys, const void *values, void *count, const void *opts)');
export const bpf_map_delete_batch = fn<[fd: number, keys: Mem, count: Buffer, opts: Mem], number>(libbpf, 'int bpf_map_delete_batch(int fd, const void *keys, void *count, const void *opts)');

// --- libbpf: links ---
export const bpf_program__attach = fn<[prog: Ptr], Ptr | null>(libbpf, 'bpf_link *bpf_program__attach(const bpf_program *prog)');
export const bpf_program__attach_perf_event = fn<[prog: Ptr, pfd: number], Ptr | null>(libbpf, 'bpf_link *bpf_program__attach_perf_event(const bpf_program *prog, int pfd)');
/** opts: a `struct bpf_uprobe_opts` laid out by the caller (see link.ts). */
export const bpf_program__attach_uprobe_opts = fn<[prog: Ptr, pid: number, binaryPath: string, funcOffset: number, opts: Mem], Ptr | null>(libbpf, 'bpf_link *bpf_program__attach_uprobe_opts(const bpf_program *prog, int pid, const char *binary_path, size_t func_offset, const void *opts)');
export const bpf_link__destroy = fn<[link: Ptr], number>(libbpf, 'int bpf_link__destroy(bpf_link *link)');
export const bpf_link__fd = fn<[link: Ptr], number>(libbpf, 'int bpf_link__fd(const bpf_link *link)');

// --- libbpf: BTF ---
export const btf__find_by_name_kind = fn<[btf: Ptr, name: string, kind: number], number>(libbpf, 'int btf__find_by_name_kind(const btf *btf, const char *type_name, uint32_t kind)');
export const btf__type_by_id = fn<[btf: Ptr, id: number], Ptr | null>(libbpf, 'const void *btf__type_by_id(const btf *btf, uint32_t id)');
export const btf__name_by_offset = fn<[btf: Ptr, offset: number], string | null>(libbpf, 'const char *btf__name_by_offset(const btf *btf, uint32_t offset)');

// --- libbpf: ring buffer ---
export const ring_buffer__new = fn<[mapFd: number, sampleCb: Ptr, ctx: Mem, opts: Mem], Ptr | null>(libbpf, 'ring_buffer *ring_buffer__new(int map_fd, void *sample_cb, void *ctx, const void *opts)');
export const ring_buffer__consume = fn<[rb: Ptr], number>(libbpf, 'int ring_buffer__consume(ring_buffer *rb)');
export const ring_buffer__free = fn<[rb: Ptr], void>(libbpf, 'void ring_buffer__free(ring_buffer *rb)');

// --- libbpf: logging ---
/** Returns the previous print function's address (or null). Pass null to silence libbpf. */
export const libbpf_set_print = fn<[printFn: Ptr | null], Ptr | null>(libbpf, 'void *libbpf_set_print(void *fn)');

// --- libc ---
/** Variadic: pass a koffi type name before each extra argument, e.g. `syscall(298, 'void *', attr, 'int', -1, …)`. */
export const syscall = fn<[number: number, ...rest: unknown[]], number>(libc, 'long syscall(long number, ...)');
export const close = fn<[fd: number], number>(libc, 'int close(int fd)');
export const ioctl = fn<[fd: number, request: number, ...rest: unknown[]], number>(libc, 'int ioctl(int fd, unsigned long request, ...)');
export const mount = fn<[source: string, target: string, fstype: string, flags: number, data: Mem], number>(libc, 'int mount(const char *source, const char *target, const char *filesystemtype, unsigned long mountflags, const void *data)');
export const vsnprintf = fn<[buf: Buffer, size: number, fmt: Ptr, args: Ptr], number>(libc, 'int vsnprintf(void *str, size_t size, void *format, void *ap)');

/** errno of the calling thread right after the previous native call. */
export function errno(): number {
  return koffi.errno();
}

/** Makes a C function pointer for `fn` with prototype `proto`; pair with `unregisterCallback`. */
export function registerCallback(fn: (...args: never[]) => unknown, proto: TypeObject): Ptr {
  return koffi.register(fn, koffi.pointer(proto));
}
export function unregisterCallback(ptr: Ptr): void {
  koffi.unregister(ptr);
}

/** Reads `type` at `address + offset` (e.g. 'uint32', 'int64'). */
export function peek(address: Ptr, offset: number, type: string): number | bigint {
  return koffi.decode(address, offset, type) as number | bigint;
}
/** Writes `value` as `type` at `address + offset`. */
export function poke(address: Ptr, offset: number, type: string, value: number | bigint): void {
  koffi.encode(address, offset, type, value);
}
/** Copies `length` bytes at `address` into a new Buffer. */
/** A Buffer over native memory, without copying: valid only while that memory is. */
export function viewOf(address: Ptr, length: number): Buffer {
  return Buffer.from(koffi.view(address, length) as ArrayBuffer);
}

export function copyOut(address: Ptr, length: number): Buffer {
  return Buffer.from(koffi.view(address, length).slice(0));
}
/** Copies `data` to `address`. */
export function copyIn(address: Ptr, data: Uint8Array): void {
  new Uint8Array(koffi.view(address, data.length)).set(data);
}
/** Address of a Buffer's memory (valid while the Buffer is referenced). */
export function addressOf(buffer: Buffer): Ptr {
  return koffi.address(buffer);
}
/** Copies `text` into native memory as a NUL-terminated string; free it with `freeNative`. Never moved or collected by V8. */
export function allocCString(text: string): Ptr {
  const bytes = Buffer.from(`${text}\0`, 'utf8');
  const ptr = koffi.alloc('uint8', bytes.length) as Ptr;
  copyIn(ptr, bytes);
  return ptr;
}
/** Frees memory from `allocCString`. */
export function freeNative(ptr: Ptr): void {
  koffi.free(ptr);
}
