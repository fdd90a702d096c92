/**
 * Attach calls the latency collector needs beyond link.ts: uprobes with a BPF cookie and a
 * raw file offset, USDT probes (libbpf's USDT manager), kprobes/kretprobes by function
 * name, and the fentry/fexit attach target (set before load).
 *
 * Same conventions as ffi.ts/link.ts: 1:1 libbpf (1.1) prototypes, errors as BpfError,
 * every link is adopted by its BpfObject so that `object.close()` detaches it.
 */
import * as ffi from './ffi.ts';
import { checkInt, checkPtr } from './errors.ts';
import { BpfLink } from './link.ts';
import { openRegularFile } from '../fs/safe-file.ts';
import type { BpfObject } from './object.ts';

const fn = ffi.libbpfFunction;

export const bpf_program__attach_usdt = fn<[prog: ffi.Ptr, pid: number, binaryPath: string, provider: string, name: string, opts: ffi.Mem], ffi.Ptr | null>(
  'void *bpf_program__attach_usdt(void *prog, int pid, const char *binary_path, const char *usdt_provider, const char *usdt_name, const void *opts)',
);
export const bpf_program__attach_kprobe = fn<[prog: ffi.Ptr, retprobe: boolean, funcName: string], ffi.Ptr | null>(
  'void *bpf_program__attach_kprobe(void *prog, bool retprobe, const char *func_name)',
);
export const bpf_program__set_attach_target = fn<[prog: ffi.Ptr, attachProgFd: number, funcName: string | null], number>(
  'int bpf_program__set_attach_target(void *prog, int attach_prog_fd, const char *attach_func_name)',
);

/** The libbpf `struct bpf_program *` of `name` in an open object. */
export function programPointer(object: BpfObject, name: string): ffi.Ptr {
  const obj = object.assertOpen();
  const ptr = ffi.bpf_object__find_program_by_name(obj, name);
  if (ptr === null) throw new Error(`${object.path} has no program named ${name}`);
  return ptr;
}

/*
 * struct bpf_uprobe_opts (libbpf 1.1):
 *   size_t sz @0; size_t ref_ctr_offset @8; __u64 bpf_cookie @16; bool retprobe @24;
 *   const char *func_name @32; size 40.
 */
const UPROBE_OPTS_SIZE = 40;

export interface UprobeAtOffset {
  binaryPath: string;
  /** File offset of the probed instruction. */
  offset: number;
  /** -1 for every process. */
  pid: number;
  retprobe: boolean;
  /** Read by the program with bpf_get_attach_cookie(). */
  cookie: number;
  /** For messages only. */
  label: string;
}

/** Attaches a SEC("uprobe"/"uretprobe") program at a file offset, with a cookie. */
export function attachUprobeAt(object: BpfObject, program: string, t: UprobeAtOffset): BpfLink {
  const prog = programPointer(object, program);
  const opts = Buffer.alloc(UPROBE_OPTS_SIZE);
  opts.writeBigUInt64LE(BigInt(UPROBE_OPTS_SIZE), 0);
  opts.writeBigUInt64LE(BigInt(t.cookie), 16);
  opts.writeUInt8(t.retprobe ? 1 : 0, 24);
  const what = `${t.retprobe ? 'uretprobe' : 'uprobe'} ${t.binaryPath}:${t.label}`;
  const ptr = checkPtr(`attaching ${program} to ${what}`, () =>
    ffi.bpf_program__attach_uprobe_opts(prog, t.pid, t.binaryPath, t.offset, opts));
  return object.adopt(new BpfLink(ptr, `${program} -> ${what}`));
}

/* struct bpf_usdt_opts (libbpf 1.1): size_t sz @0; __u64 usdt_cookie @8; size 16. */
const USDT_OPTS_SIZE = 16;

export interface UsdtTarget {
  binaryPath: string;
  provider: string;
  name: string;
  /** -1 for every process. */
  pid: number;
  /** Read by the program with bpf_usdt_cookie(). */
  cookie: number;
}

/** Attaches a SEC("usdt") program to every site of one USDT probe (semaphores handled by libbpf). */
export function attachUsdt(object: BpfObject, program: string, t: UsdtTarget): BpfLink {
  const prog = programPointer(object, program);
  const opts = Buffer.alloc(USDT_OPTS_SIZE);
  opts.writeBigUInt64LE(BigInt(USDT_OPTS_SIZE), 0);
  opts.writeBigUInt64LE(BigInt(t.cookie), 8);
  const what = `usdt ${t.binaryPath}:${t.provider}:${t.name}`;
  // libbpf opens the binary by path with a blocking open(): check it is still a regular file
  // right before (the callers checked it earlier, before the load, which takes a while).
  openRegularFile(t.binaryPath).close();
  const ptr = checkPtr(`attaching ${program} to ${what}`, () =>
    bpf_program__attach_usdt(prog, t.pid, t.binaryPath, t.provider, t.name, opts));
  return object.adopt(new BpfLink(ptr, `${program} -> ${what}`));
}

/** Attaches a SEC("kprobe"/"kretprobe") program to a kernel function. */
export function attachKprobe(object: BpfObject, program: string, func: string, retprobe: boolean): BpfLink {
  const prog = programPointer(object, program);
  const what = `${retprobe ? 'kretprobe' : 'kprobe'} ${func}`;
  const ptr = checkPtr(`attaching ${program} to ${what}`, () => bpf_program__attach_kprobe(prog, retprobe, func));
  return object.adopt(new BpfLink(ptr, `${program} -> ${what}`));
}

/** Sets the kernel function a SEC("fentry"/"fexit") program attaches to. Call before load. */
export function setAttachTarget(object: BpfObject, program: string, func: string): void {
  const prog = programPointer(object, program);
  checkInt(`setting the attach target of ${program} to ${func}`, () => bpf_program__set_attach_target(prog, 0, func));
}
