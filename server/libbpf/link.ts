/**
 * BpfLink: one attachment of a BPF program (libbpf `struct bpf_link`).
 *
 * Lifetime: the program stays attached until `close()` (or process exit). A link made with
 * `attachPerfEvent` also owns the perf event fd it was given: libbpf closes that fd when the
 * link is destroyed.
 */
import * as ffi from './ffi.ts';
import { checkPtr } from './errors.ts';
import { release, track } from './lifetime.ts';

export class BpfLink {
  #ptr: ffi.Ptr | null;
  /** What was attached, for messages ("pb_profile -> perf event on CPU 1"). */
  readonly description: string;

  /** @internal Use the attach functions below. */
  constructor(ptr: ffi.Ptr, description: string) {
    this.#ptr = ptr;
    this.description = description;
    track(this);
  }

  /** The link's fd (a BPF link fd, or the perf event fd for ioctl-attached perf events). -1 once closed. */
  get fd(): number {
    return this.#ptr === null ? -1 : ffi.bpf_link__fd(this.#ptr);
  }

  get closed(): boolean {
    return this.#ptr === null;
  }

  /** Detaches and frees the link. Idempotent. */
  close(): void {
    if (this.#ptr === null) return;
    const ptr = this.#ptr;
    this.#ptr = null;
    release(this);
    ffi.bpf_link__destroy(ptr);
  }
}

/** Attaches a perf_event program to an open perf event fd; on success the link owns `perfFd`. */
export function attachPerfEvent(program: ffi.Ptr, programName: string, perfFd: number, what: string): BpfLink {
  const ptr = checkPtr(`attaching ${programName} to ${what}`, () => ffi.bpf_program__attach_perf_event(program, perfFd));
  return new BpfLink(ptr, `${programName} -> ${what}`);
}

/** Attaches a program whose section name says where (tracepoint/…, kprobe/…, fentry/…). */
export function attachAuto(program: ffi.Ptr, programName: string): BpfLink {
  const ptr = checkPtr(`attaching ${programName}`, () => ffi.bpf_program__attach(program));
  return new BpfLink(ptr, programName);
}

/** Options for `attachUprobe`. */
export interface UprobeTarget {
  /** Executable or shared library path. */
  binaryPath: string;
  /** Function symbol to probe (resolved by libbpf from the ELF symbol table). */
  funcName: string;
  /** Process to probe; -1 for every process. */
  pid: number;
  /** true for a uretprobe. */
  retprobe?: boolean;
}

/*
 * struct bpf_uprobe_opts (libbpf 1.1):
 *   size_t sz @0; size_t ref_ctr_offset @8; __u64 bpf_cookie @16; bool retprobe @24;
 *   const char *func_name @32; size 40.
 */
const UPROBE_OPTS_SIZE = 40;

/** Attaches a uprobe program to `funcName` in `binaryPath`. */
export function attachUprobe(program: ffi.Ptr, programName: string, target: UprobeTarget): BpfLink {
  const opts = Buffer.alloc(UPROBE_OPTS_SIZE);
  // Native memory: libbpf may call back into JS (its log) during the call, so a GC must not move or free the name.
  const funcName = ffi.allocCString(target.funcName);
  opts.writeBigUInt64LE(BigInt(UPROBE_OPTS_SIZE), 0);
  opts.writeUInt8(target.retprobe ? 1 : 0, 24);
  opts.writeBigUInt64LE(funcName, 32);
  const what = `${target.binaryPath}:${target.funcName}`;
  let ptr: ffi.Ptr;
  try {
    ptr = checkPtr(`attaching ${programName} to uprobe ${what}`, () =>
      ffi.bpf_program__attach_uprobe_opts(program, target.pid, target.binaryPath, 0, opts));
  } finally {
    ffi.freeNative(funcName);
  }
  return new BpfLink(ptr, `${programName} -> ${what}`);
}
