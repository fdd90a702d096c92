/**
 * BpfObject: one compiled BPF ELF object (`bpf/obj/<stem>.bpf.o`) through its life:
 * open -> (set rodata, autoload, map sizes) -> load -> find programs/maps, attach -> close.
 *
 * Lifetime: programs and maps found on an object are valid until the object is closed.
 * Links made through `BpfProgram` are tracked by the object and destroyed by its `close()`
 * (before the object itself), so closing the object leaves nothing attached. Everything still
 * open at process exit is closed then (lifetime.ts).
 */
import { existsSync } from 'node:fs';
import * as ffi from './ffi.ts';
import { BpfError, checkInt, checkPtr } from './errors.ts';
import { release, track } from './lifetime.ts';
import { BpfMap } from './map.ts';
import { BpfLink, attachAuto, attachPerfEvent, attachUprobe, type UprobeTarget } from './link.ts';
import type { PerfEvent } from './perf-event.ts';

const BTF_KIND_VAR = 14;
const BTF_KIND_DATASEC = 15;

/** A value for a `const volatile` global: integers by the variable's size, bool as 0/1, strings NUL padded. */
export type RodataValue = number | bigint | boolean | string | Uint8Array;

/** A program in a BpfObject. Valid until the object is closed. */
export class BpfProgram {
  readonly name: string;
  readonly #ptr: ffi.Ptr;
  readonly #object: BpfObject;

  /** @internal Use BpfObject.program(). */
  constructor(object: BpfObject, ptr: ffi.Ptr, name: string) {
    this.#object = object;
    this.#ptr = ptr;
    this.name = name;
  }

  /** Program fd after load; negative before. */
  get fd(): number {
    this.#object.assertOpen();
    return ffi.bpf_program__fd(this.#ptr);
  }

  /** Whether `load()` will load this program (call before load). */
  setAutoload(autoload: boolean): void {
    this.#object.assertOpen();
    checkInt(`setting autoload of ${this.name}`, () => ffi.bpf_program__set_autoload(this.#ptr, autoload));
  }

  /** Attaches to an open perf event; the link takes over the perf event's fd. */
  attachPerfEvent(event: PerfEvent): BpfLink {
    this.#object.assertOpen();
    const link = attachPerfEvent(this.#ptr, this.name, event.fd, `perf event on CPU ${event.cpu}`);
    event.markOwnedByLink();
    return this.#object.adopt(link);
  }

  /** Attaches where the section name says (tracepoint/…, kprobe/…, fentry/…). */
  attach(): BpfLink {
    this.#object.assertOpen();
    return this.#object.adopt(attachAuto(this.#ptr, this.name));
  }

  /** Attaches a `SEC("uprobe")` program to a function of a binary. */
  attachUprobe(target: UprobeTarget): BpfLink {
    this.#object.assertOpen();
    return this.#object.adopt(attachUprobe(this.#ptr, this.name, target));
  }
}

/** Largest max_entries (or ring buffer bytes) any map may be given: 64 Mi. */
export const MAX_MAP_ENTRIES = 1 << 26;

export class BpfObject {
  /** Path it was opened from. */
  readonly path: string;
  #ptr: ffi.Ptr | null;
  #loaded = false;
  readonly #links = new Set<BpfLink>();
  readonly #maps = new Map<string, BpfMap>();

  private constructor(path: string, ptr: ffi.Ptr) {
    this.path = path;
    this.#ptr = ptr;
    track(this);
  }

  /** Opens (parses) an object file. Nothing is in the kernel until `load()`. */
  static open(path: string): BpfObject {
    if (!existsSync(path)) throw new Error(`BPF object ${path} not found (run npm run build:bpf)`);
    const ptr = checkPtr(`opening BPF object ${path}`, () => ffi.bpf_object__open_file(path, null));
    return new BpfObject(path, ptr);
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  get closed(): boolean {
    return this.#ptr === null;
  }

  /** @internal */
  assertOpen(): ffi.Ptr {
    if (this.#ptr === null) throw new Error(`BPF object ${this.path} is closed`);
    return this.#ptr;
  }

  /** @internal Tracks a link so that `close()` destroys it. */
  adopt(link: BpfLink): BpfLink {
    this.#links.add(link);
    return link;
  }

  /**
   * Writes `const volatile` globals (the `.rodata` section) before load, by variable name,
   * using the object's BTF for offsets and sizes. Throws on unknown names, wrong sizes, or after load.
   */
  setRodata(values: Record<string, RodataValue>): void {
    const obj = this.assertOpen();
    if (this.#loaded) throw new Error(`${this.path}: rodata can only be set before load`);
    const map = checkPtr(`finding .rodata in ${this.path}`, () => ffi.bpf_object__find_map_by_name(obj, '.rodata'));
    const size = [0];
    const data = checkPtr(`reading .rodata of ${this.path}`, () => ffi.bpf_map__initial_value(map, size));
    const layout = this.#datasecLayout('.rodata');
    for (const [name, value] of Object.entries(values)) {
      const variable = layout.get(name);
      if (!variable) throw new Error(`${this.path}: no const volatile variable named ${name}`);
      if (variable.offset + variable.size > size[0]) throw new Error(`${this.path}: ${name} lies outside .rodata`);
      ffi.copyIn(data + BigInt(variable.offset), encodeRodata(name, value, variable.size));
    }
  }

  /** Offsets and sizes (bytes) of the variables in a data section, from the object's BTF. */
  #datasecLayout(section: string): Map<string, { offset: number; size: number }> {
    const obj = this.assertOpen();
    const btf = checkPtr(`reading BTF of ${this.path}`, () => ffi.bpf_object__btf(obj));
    const id = ffi.btf__find_by_name_kind(btf, section, BTF_KIND_DATASEC);
    if (id < 0) throw new BpfError(`finding ${section} in the BTF of ${this.path}`, -id);
    const type = checkPtr('reading BTF type', () => ffi.btf__type_by_id(btf, id));
    // struct btf_type { u32 name_off; u32 info; u32 size; } then vlen × btf_var_secinfo { u32 type; u32 offset; u32 size; }
    const vlen = Number(ffi.peek(type, 4, 'uint32')) & 0xffff;
    const layout = new Map<string, { offset: number; size: number }>();
    for (let i = 0; i < vlen; i++) {
      const base = 12 + i * 12;
      const varId = Number(ffi.peek(type, base, 'uint32'));
      const offset = Number(ffi.peek(type, base + 4, 'uint32'));
      const varSize = Number(ffi.peek(type, base + 8, 'uint32'));
      const varType = ffi.btf__type_by_id(btf, varId);
      if (varType === null) continue;
      const kind = (Number(ffi.peek(varType, 4, 'uint32')) >>> 24) & 0x1f;
      if (kind !== BTF_KIND_VAR) continue;
      const name = ffi.btf__name_by_offset(btf, Number(ffi.peek(varType, 0, 'uint32')));
      if (name) layout.set(name, { offset, size: varSize });
    }
    return layout;
  }

  /**
   * Changes a map's max_entries before load. Capped at MAX_MAP_ENTRIES: no caller can make the
   * kernel allocate an unbounded map.
   */
  setMaxEntries(mapName: string, maxEntries: number): void {
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > MAX_MAP_ENTRIES) {
      throw new Error(`map ${mapName}: max_entries must be a whole number from 1 to ${MAX_MAP_ENTRIES}, got ${maxEntries}`);
    }
    const obj = this.assertOpen();
    if (this.#loaded) throw new Error(`${this.path}: map sizes can only be set before load`);
    const map = checkPtr(`finding map ${mapName} in ${this.path}`, () => ffi.bpf_object__find_map_by_name(obj, mapName));
    checkInt(`resizing map ${mapName}`, () => ffi.bpf_map__set_max_entries(map, maxEntries));
  }

  /** Names of every program in the object. */
  programNames(): string[] {
    const obj = this.assertOpen();
    const names: string[] = [];
    for (let prog = ffi.bpf_object__next_program(obj, null); prog !== null; prog = ffi.bpf_object__next_program(obj, prog)) {
      names.push(ffi.bpf_program__name(prog));
    }
    return names;
  }

  /** A program by its C function name. */
  program(name: string): BpfProgram {
    const obj = this.assertOpen();
    const ptr = ffi.bpf_object__find_program_by_name(obj, name);
    if (ptr === null) throw new Error(`${this.path} has no program named ${name}`);
    return new BpfProgram(this, ptr, name);
  }

  /**
   * Verifies and loads every program (with autoload on) and creates every map. On failure the
   * error carries libbpf's log (verifier output) in `log`, and the object stays open (close it).
   */
  load(): void {
    const obj = this.assertOpen();
    if (this.#loaded) return;
    checkInt(`loading ${this.path}`, () => ffi.bpf_object__load(obj), (errno) => loadHint(errno));
    this.#loaded = true;
  }

  /** A map by name (after load: with a usable fd). */
  map(name: string): BpfMap {
    const obj = this.assertOpen();
    const cached = this.#maps.get(name);
    if (cached) return cached;
    if (!this.#loaded) throw new Error(`${this.path}: load before using map ${name}`);
    const ptr = ffi.bpf_object__find_map_by_name(obj, name);
    if (ptr === null) throw new Error(`${this.path} has no map named ${name}`);
    const map = new BpfMap(ffi.bpf_map__fd(ptr), {
      name,
      type: ffi.bpf_map__type(ptr),
      keySize: ffi.bpf_map__key_size(ptr),
      valueSize: ffi.bpf_map__value_size(ptr),
      maxEntries: ffi.bpf_map__max_entries(ptr),
    }, false);
    this.#maps.set(name, map);
    return map;
  }

  /** Destroys every link made through this object, then frees programs and maps. Idempotent. */
  close(): void {
    if (this.#ptr === null) return;
    for (const link of this.#links) link.close();
    this.#links.clear();
    for (const map of this.#maps.values()) map.invalidate();
    this.#maps.clear();
    const ptr = this.#ptr;
    this.#ptr = null;
    release(this);
    ffi.bpf_object__close(ptr);
  }
}

function encodeRodata(name: string, value: RodataValue, size: number): Uint8Array {
  const bytes = Buffer.alloc(size);
  if (typeof value === 'boolean') {
    bytes[0] = value ? 1 : 0;
  } else if (typeof value === 'string' || value instanceof Uint8Array) {
    // strings keep room for their NUL; raw bytes (arrays, bitmaps) may fill the variable
    const raw = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    if (typeof value === 'string' && raw.length >= size) throw new RangeError(`${name}: ${raw.length} bytes do not fit in ${size} (NUL included)`);
    if (raw.length > size) throw new RangeError(`${name}: ${raw.length} bytes do not fit in ${size}`);
    bytes.set(raw);
  } else {
    const big = BigInt(value);
    if (size > 8) throw new RangeError(`${name} is ${size} bytes: pass a string or bytes`);
    if (big < -(1n << BigInt(size * 8 - 1)) || big >= 1n << BigInt(size * 8)) throw new RangeError(`${name}: ${value} does not fit in ${size} bytes`);
    let unsigned = BigInt.asUintN(size * 8, big);
    for (let i = 0; i < size; i++) {
      bytes[i] = Number(unsigned & 0xffn);
      unsigned >>= 8n;
    }
  }
  return bytes;
}

function loadHint(errno: number): string | undefined {
  if (errno === 1 || errno === 13) return 'run as root (or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN for tracing programs)';
  if (errno === 524 || errno === 95) return 'this kernel does not support a program or map type in the object';
  return undefined;
}

export { BpfLink, BpfMap };
