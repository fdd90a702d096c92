/**
 * Runtime feature probes. One contract: a probe returns `{ available: true }` or
 * `{ available: false, notSupported }` where `notSupported` is a NotSupported error naming the
 * feature and the reason (missing kernel config, no permission, kernel refuses). Both answers
 * are conclusive and cached for the life of the process. A probe that cannot decide (e.g. the
 * probe object file is missing) throws instead, and nothing is cached.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import * as ffi from './ffi.ts';
import { BpfError, errnoMessage, errnoName } from './errors.ts';
import { BpfObject } from './object.ts';
import { BPF_MAP_TYPE, BpfMap } from './map.ts';
import { PerfEvent, onlineCpus } from './perf-event.ts';

export type FeatureName = 'privileges' | 'btf' | 'perf_events' | 'tracepoints' | 'uprobes' | 'kprobes' | 'fentry' | 'ringbuf';
export const FEATURE_NAMES: readonly FeatureName[] = ['privileges', 'btf', 'perf_events', 'tracepoints', 'uprobes', 'kprobes', 'fentry', 'ringbuf'];

/** A conclusive "this kernel / these privileges cannot do `feature`", with why. */
export class NotSupported extends Error {
  readonly feature: FeatureName;
  readonly reason: string;
  constructor(feature: FeatureName, reason: string) {
    super(`${feature} not supported: ${reason}`);
    this.name = 'NotSupported';
    this.feature = feature;
    this.reason = reason;
  }
}

export type FeatureResult = { available: true } | { available: false; notSupported: NotSupported };

/** Compiled probe programs (bpf/features.bpf.c). */
export const FEATURES_OBJECT_PATH = fileURLToPath(new URL('../../bpf/obj/features.bpf.o', import.meta.url));

export const TRACEFS_PATH = '/sys/kernel/tracing';
export const TRACEFS_MOUNT_COMMAND = `mount -t tracefs tracefs ${TRACEFS_PATH}`;

const cache = new Map<FeatureName, FeatureResult>();

/** Probes one feature (cached). */
export function probeFeature(feature: FeatureName): FeatureResult {
  const cached = cache.get(feature);
  if (cached) return cached;
  let result: FeatureResult;
  try {
    PROBES[feature]();
    result = { available: true };
  } catch (error) {
    if (!(error instanceof NotSupported)) throw error;
    result = { available: false, notSupported: error };
  }
  cache.set(feature, result);
  return result;
}

/** Probes every feature, in FEATURE_NAMES order. */
export function probeAllFeatures(): Record<FeatureName, FeatureResult> {
  const results = {} as Record<FeatureName, FeatureResult>;
  for (const feature of FEATURE_NAMES) results[feature] = probeFeature(feature);
  return results;
}

/** Throws the NotSupported error if `feature` is not available. */
export function requireFeature(feature: FeatureName): void {
  const result = probeFeature(feature);
  if (!result.available) throw result.notSupported;
}

/** Forgets cached answers (tests; after mounting tracefs). */
export function clearFeatureCache(feature?: FeatureName): void {
  if (feature) cache.delete(feature);
  else cache.clear();
}

/** Result of `ensureTracefs`. */
export type TracefsState =
  | { mounted: true; path: string; mountedNow: boolean }
  | { mounted: false; path: string; reason: string; command: string };

/** Whether tracefs is mounted at `path` (its `events` directory is visible). */
export function tracefsMounted(path = TRACEFS_PATH): boolean {
  return existsSync(`${path}/events`) || existsSync(`${path}/available_events`);
}

/**
 * Makes sure tracefs is mounted at /sys/kernel/tracing: mounts it when missing and running as
 * root; otherwise says why not and the exact command to run.
 */
export function ensureTracefs(): TracefsState {
  if (tracefsMounted()) return { mounted: true, path: TRACEFS_PATH, mountedNow: false };
  if (!kernelHasFilesystem('tracefs')) {
    return { mounted: false, path: TRACEFS_PATH, reason: 'this kernel has no tracefs (CONFIG_TRACING is off)', command: TRACEFS_MOUNT_COMMAND };
  }
  if (process.geteuid?.() !== 0) {
    return { mounted: false, path: TRACEFS_PATH, reason: `tracefs is not mounted at ${TRACEFS_PATH} and mounting it needs root`, command: `sudo ${TRACEFS_MOUNT_COMMAND}` };
  }
  try {
    if (!existsSync(TRACEFS_PATH)) mkdirSync(TRACEFS_PATH, { recursive: true });
  } catch {
    // /sys is not writable: mount reports the real problem below
  }
  if (ffi.mount('tracefs', TRACEFS_PATH, 'tracefs', 0, null) !== 0) {
    const errno = ffi.errno();
    return { mounted: false, path: TRACEFS_PATH, reason: `mounting tracefs at ${TRACEFS_PATH} failed: ${errnoMessage(errno)} (${errnoName(errno)})`, command: TRACEFS_MOUNT_COMMAND };
  }
  clearFeatureCache('tracepoints');
  return { mounted: true, path: TRACEFS_PATH, mountedNow: true };
}

// --- probes: each returns normally when available and throws NotSupported when not ---------

const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

/** Effective capability set of this process. */
function effectiveCaps(): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? BigInt(`0x${match[1]}`) : 0n;
}

function hasCap(caps: bigint, cap: number): boolean {
  return (caps & (1n << BigInt(cap))) !== 0n;
}

function kernelHasFilesystem(name: string): boolean {
  try {
    return readFileSync('/proc/filesystems', 'utf8').split('\n').some((line) => line.split('\t').pop() === name);
  } catch {
    return false;
  }
}

/** `CONFIG_X=y|m` / `# CONFIG_X is not set` from /proc/config.gz or /boot/config-$(uname -r); null when unknown. */
function kernelConfig(option: string): 'y' | 'm' | 'n' | null {
  let text: string | null = null;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    try {
      const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
      text = readFileSync(`/boot/config-${release}`, 'utf8');
    } catch {
      return null;
    }
  }
  if (new RegExp(`^# ${option} is not set$`, 'm').test(text)) return 'n';
  const match = new RegExp(`^${option}=(y|m)$`, 'm').exec(text);
  return match ? (match[1] as 'y' | 'm') : 'n';
}

function privilegeReason(): string | null {
  const caps = effectiveCaps();
  if (hasCap(caps, CAP_SYS_ADMIN) || (hasCap(caps, CAP_BPF) && hasCap(caps, CAP_PERFMON))) return null;
  const missing = [CAP_BPF, CAP_PERFMON].filter((cap) => !hasCap(caps, cap)).map((cap) => (cap === CAP_BPF ? 'CAP_BPF' : 'CAP_PERFMON'));
  const who = process.geteuid?.() === 0 ? 'running as root but without' : 'not root and without';
  return `${who} ${missing.join(' and ')} (or CAP_SYS_ADMIN): run with sudo`;
}

/** Turns a failed BPF operation into NotSupported for `feature`, keeping libbpf's last words. */
function notSupportedFrom(feature: FeatureName, error: unknown, explain?: (error: BpfError) => string | undefined): NotSupported {
  if (!(error instanceof BpfError)) {
    return new NotSupported(feature, error instanceof Error ? error.message : String(error));
  }
  const privileges = privilegeReason();
  if (privileges !== null && (error.errno === 1 || error.errno === 13)) return new NotSupported(feature, privileges);
  const specific = explain?.(error);
  const libbpfSaid = error.log
    .map((line) => line.replace(/^libbpf: /, ''))
    .filter((line) => !/skipped loading|loading kernel BTF|failed to load object|failed to load: -\d+|ulimit -l/.test(line))
    .slice(-2)
    .join('; ');
  return new NotSupported(feature, `${specific ?? error.message}${libbpfSaid ? ` (libbpf: ${libbpfSaid})` : ''}`);
}

/** Loads bpf/obj/features.bpf.o with only `program` enabled, runs `use`, closes everything. */
function withProbeProgram(program: string, use: (object: BpfObject) => void): void {
  const object = BpfObject.open(FEATURES_OBJECT_PATH);
  try {
    for (const name of object.programNames()) object.program(name).setAutoload(name === program);
    object.load();
    use(object);
  } finally {
    object.close();
  }
}

function libcPath(): string {
  const maps = readFileSync('/proc/self/maps', 'utf8');
  const match = /\s(\/\S*\/libc\.so\.6)$/m.exec(maps) ?? /\s(\/\S*\/libc[-.][^\s/]*\.so[^\s/]*)$/m.exec(maps);
  return match ? match[1] : '/lib/x86_64-linux-gnu/libc.so.6';
}

const PROBES: Record<FeatureName, () => void> = {
  privileges() {
    const reason = privilegeReason();
    if (reason !== null) throw new NotSupported('privileges', reason);
  },

  btf() {
    if (!existsSync('/sys/kernel/btf/vmlinux')) {
      throw new NotSupported('btf', 'no /sys/kernel/btf/vmlinux: the kernel was built without CONFIG_DEBUG_INFO_BTF, which CO-RE programs need');
    }
  },

  perf_events() {
    if (!existsSync('/proc/sys/kernel/perf_event_paranoid')) {
      throw new NotSupported('perf_events', 'the kernel was built without CONFIG_PERF_EVENTS (no /proc/sys/kernel/perf_event_paranoid)');
    }
    const cpu = onlineCpus()[0] ?? 0;
    let event: PerfEvent;
    try {
      event = PerfEvent.openCpuClock(cpu, 1);
    } catch (error) {
      throw notSupportedFrom('perf_events', error);
    }
    event.close();
  },

  tracepoints() {
    if (!tracefsMounted()) {
      const reason = kernelHasFilesystem('tracefs')
        ? `tracefs is not mounted at ${TRACEFS_PATH}; run: ${TRACEFS_MOUNT_COMMAND} (probeboard mounts it itself when run as root)`
        : 'this kernel has no tracefs (CONFIG_TRACING is off)';
      throw new NotSupported('tracepoints', reason);
    }
    try {
      withProbeProgram('pb_feat_tracepoint', (object) => object.program('pb_feat_tracepoint').attach());
    } catch (error) {
      throw notSupportedFrom('tracepoints', error);
    }
  },

  uprobes() {
    if (!existsSync('/sys/bus/event_source/devices/uprobe')) {
      const config = kernelConfig('CONFIG_UPROBE_EVENTS');
      throw new NotSupported('uprobes', `no uprobe PMU (/sys/bus/event_source/devices/uprobe): the kernel was built without CONFIG_UPROBE_EVENTS${config === 'n' ? ' (kernel config says it is not set)' : ''}`);
    }
    try {
      // A real attach: getpid in this process's libc, detached again at once.
      withProbeProgram('pb_feat_uprobe', (object) =>
        object.program('pb_feat_uprobe').attachUprobe({ binaryPath: libcPath(), funcName: 'getpid', pid: process.pid }));
    } catch (error) {
      throw notSupportedFrom('uprobes', error);
    }
  },

  kprobes() {
    if (!existsSync('/sys/bus/event_source/devices/kprobe')) {
      const config = kernelConfig('CONFIG_KPROBES');
      const evidence = config === 'n' ? '; the kernel config says "# CONFIG_KPROBES is not set"' : config === null ? '' : `; CONFIG_KPROBES=${config}`;
      throw new NotSupported('kprobes', `no kprobe PMU (/sys/bus/event_source/devices/kprobe): the kernel was built without CONFIG_KPROBES or CONFIG_KPROBE_EVENTS${evidence}`);
    }
    try {
      withProbeProgram('pb_feat_kprobe', (object) => object.program('pb_feat_kprobe').attach());
    } catch (error) {
      throw notSupportedFrom('kprobes', error);
    }
  },

  fentry() {
    if (!existsSync('/sys/kernel/btf/vmlinux')) throw new NotSupported('fentry', 'fentry needs kernel BTF (/sys/kernel/btf/vmlinux), which is missing');
    try {
      withProbeProgram('pb_feat_fentry', (object) => object.program('pb_feat_fentry').attach());
    } catch (error) {
      throw notSupportedFrom('fentry', error, (bpfError) => {
        const loading = bpfError.operation.startsWith('loading');
        const step = loading ? 'load an fentry program (on vfs_read)' : 'attach an fentry program (on vfs_read)';
        const base = `the kernel refused to ${step}: ${errnoMessage(bpfError.errno)} (${errnoName(bpfError.errno)})`;
        if (bpfError.errno === 1 || bpfError.errno === 13) {
          return `${base} although this process has the privileges it needs; this kernel does not allow BPF trampolines (fentry/fexit), e.g. a security module or kernel policy forbids them`;
        }
        if (bpfError.errno === 524 || bpfError.errno === 95 || bpfError.errno === 22) {
          return `${base}; this kernel or architecture lacks BPF trampoline support (fentry/fexit)`;
        }
        return base;
      });
    }
  },

  ringbuf() {
    let map: BpfMap;
    try {
      map = BpfMap.create(BPF_MAP_TYPE.RINGBUF, 'pb_feat_rb', 0, 0, 4096);
    } catch (error) {
      throw notSupportedFrom('ringbuf', error, (bpfError) =>
        bpfError.errno === 22 ? `the kernel does not know BPF_MAP_TYPE_RINGBUF (Linux 5.8+): ${bpfError.message}` : undefined);
    }
    map.close();
  },
};
