/**
 * perf_event_open(2) through libc's `syscall` (no libc wrapper exists), and the CPU lists
 * under /sys/devices/system/cpu.
 *
 * Lifetime: a PerfEvent owns its fd until `close()`, or until a BPF link takes it over
 * (`markOwnedByLink()`; libbpf closes a perf event fd when the link attached to it is
 * destroyed).
 */
import { readFileSync } from 'node:fs';
import * as ffi from './ffi.ts';
import { BpfError, privilegeHint } from './errors.ts';
import { release, track } from './lifetime.ts';

/** x86_64 syscall number of perf_event_open. */
export const NR_PERF_EVENT_OPEN = 298;
export const PERF_TYPE_SOFTWARE = 1;
export const PERF_COUNT_SW_CPU_CLOCK = 0;
const PERF_FLAG_FD_CLOEXEC = 8;
/** PERF_ATTR_SIZE_VER7; newer kernels accept it, older ones accept a zero tail. */
const PERF_ATTR_SIZE = 128;
const ATTR_FLAG_DISABLED = 1n << 0n;
const ATTR_FLAG_FREQ = 1n << 10n;

/** Parses a kernel CPU list such as "0-3,5,7-8" into sorted CPU numbers. Throws on malformed input. */
export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === '') return [];
  for (const part of trimmed.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`malformed CPU list "${trimmed}"`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (last < first) throw new Error(`malformed CPU list "${trimmed}"`);
    for (let cpu = first; cpu <= last; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** CPUs online now (/sys/devices/system/cpu/online). */
export function onlineCpus(): number[] {
  return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
}

/** Number of possible CPUs (size of per-CPU map values is this × the rounded value size). */
export function possibleCpuCount(): number {
  const cpus = parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return cpus.length === 0 ? 1 : cpus[cpus.length - 1] + 1;
}

/** Bytes of a `struct perf_event_attr` for a frequency-based software cpu-clock sampler. */
export function cpuClockAttr(hz: number): Buffer {
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  attr.writeUInt32LE(PERF_TYPE_SOFTWARE, 0); // type
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4); // size
  attr.writeBigUInt64LE(BigInt(PERF_COUNT_SW_CPU_CLOCK), 8); // config
  attr.writeBigUInt64LE(BigInt(hz), 16); // sample_freq (union with sample_period)
  attr.writeBigUInt64LE(ATTR_FLAG_DISABLED | ATTR_FLAG_FREQ, 40); // disabled, freq; enabled by attach
  return attr;
}

/** One open perf event fd. */
export class PerfEvent {
  #fd: number;
  /** CPU it counts on (-1: any). */
  readonly cpu: number;

  private constructor(fd: number, cpu: number) {
    this.#fd = fd;
    this.cpu = cpu;
    track(this);
  }

  /**
   * Opens a software cpu-clock event sampling at `hz` on `cpu`, for every process (pid -1).
   * Throws a BpfError such as "perf_event_open failed on CPU 0: Permission denied (EACCES) — run as root".
   */
  static openCpuClock(cpu: number, hz: number): PerfEvent {
    if (!Number.isInteger(hz) || hz < 1) throw new RangeError(`sample rate must be a positive integer (Hz), got ${hz}`);
    const attr = cpuClockAttr(hz);
    const fd = Number(ffi.syscall(NR_PERF_EVENT_OPEN, 'void *', attr, 'int', -1, 'int', cpu, 'int', -1, 'unsigned long', PERF_FLAG_FD_CLOEXEC));
    if (fd < 0) {
      const errno = ffi.errno();
      throw new BpfError(`perf_event_open on CPU ${cpu}`, errno, perfHint(errno));
    }
    return new PerfEvent(fd, cpu);
  }

  /** The fd; -1 once closed or handed to a link. */
  get fd(): number {
    return this.#fd;
  }

  /** Called after a BPF link took the fd over: `close()` will then leave it to the link. */
  markOwnedByLink(): void {
    if (this.#fd < 0) return;
    this.#fd = -1;
    release(this);
  }

  /** Closes the fd unless a link owns it. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    release(this);
    ffi.close(fd);
  }
}

function perfHint(errno: number): string | undefined {
  if (errno === 1 || errno === 13) {
    let paranoid = '';
    try {
      paranoid = readFileSync('/proc/sys/kernel/perf_event_paranoid', 'utf8').trim();
    } catch {
      // not readable: no extra hint
    }
    return `run as root (or grant CAP_PERFMON)${paranoid ? `; kernel.perf_event_paranoid is ${paranoid}` : ''}`;
  }
  if (errno === 2 || errno === 19) return 'this kernel or CPU has no cpu-clock software event (CONFIG_PERF_EVENTS)';
  if (errno === 22) return 'the sample rate may exceed kernel.perf_event_max_sample_rate';
  return privilegeHint(errno);
}
