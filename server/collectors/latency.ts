/**
 * LatencyCollector: one latency probe (one spec) = one loaded bpf/obj/latency.bpf.o.
 *
 * open(): parse the spec, resolve and check the inputs (binary, ELF, symbol or USDT probe,
 * pid, kernel feature), load the object with only the programs this probe needs, attach.
 * read(): read the cumulative in-kernel histograms and miss counters, return plain data
 * (per key: interval delta and totals) — addresses and numbers only, no I/O beyond the maps
 * and a stat() of the traced binary (stale detection).
 * close(): detaches everything at once (the object's links go with it).
 *
 * Errors meant for the user are LatencyError; `kind` says whether the input was wrong
 * ('input': exit code 2 in the CLI), the kernel lacks a feature ('feature'), or loading or
 * attaching failed otherwise ('kernel').
 */
import { existsSync, statSync, readFileSync, realpathSync, accessSync, constants as fsc } from 'node:fs';
import { describeFileType } from '../fs/safe-file.ts';
import { execFileSync } from 'node:child_process';
import { join, resolve as resolvePath, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProbeSpec, formatProbeSpec, type ProbeSpec } from '../../lib/probe-spec.ts';
import { syscallName } from '../../lib/syscalls.ts';
import {
  addHistograms,
  emptyHistogram,
  fineFromMap,
  log2OfFine,
  subtractHistograms,
  DEFAULT_SUB_BUCKETS,
  MAX_SUB_BUCKETS,
  MIN_SUB_BUCKETS,
  type Log2Histogram,
} from '../../lib/histogram.ts';
import { alternativesFor, syscallHint } from '../../lib/syscall-hints.ts';
import { BpfObject } from '../libbpf/object.ts';
import type { BpfMap } from '../libbpf/map.ts';
import { probeFeature, ensureTracefs } from '../libbpf/features.ts';
import * as ffi from '../libbpf/ffi.ts';
import { BpfError, errnoName } from '../libbpf/errors.ts';
import { attachKprobe, attachUprobeAt, attachUsdt, setAttachTarget } from '../libbpf/attach-probes.ts';
import {
  ALL_LATENCY_PROGRAMS,
  LATENCY_PROGRAMS,
  LAT_STAT,
  LAT_STAT_MAX,
  decodeDev,
  decodeBucketKey,
  decodeBucketValue,
  decodeHistKey,
  decodeHistValue,
  syscallBitmap,
  HIST_KEY,
  type LatHistKey,
} from '../abi/latency.ts';
import { ElfFile, ElfError } from '../symbolizer/elf.ts';
import { ProbeInputError, resolveBinary as resolveProbeBinary } from '../probes/binaries.ts';
import { resolveUprobeFunctions, type UprobeFunction } from '../probes/symbols.ts';
import { usdtProbesOfElf, UsdtError } from '../probes/usdt-notes.ts';

/** Histogram entries read per bpf_map_lookup_batch call. */
const BATCH_CHUNK = 256;

const DEFAULT_OBJECT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bpf', 'obj', 'latency.bpf.o');

/** Most functions one uprobe glob may match (each gets its own uprobe pair and histogram). */
export const DEFAULT_MAX_GLOB_MATCHES = 32;

export type LatencyErrorKind = 'input' | 'feature' | 'kernel';

/** A refusal meant for the user. */
export class LatencyError extends Error {
  constructor(
    readonly kind: LatencyErrorKind,
    message: string,
    /** The spec field or option at fault ('binary', 'symbol', 'probes', 'pid', 'function', ...). */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'LatencyError';
  }
}

export interface LatencyOptions {
  /** Only this process (tgid). Must exist at open. */
  pid?: number;
  /** Only threads with this command name (at most 15 bytes). */
  comm?: string;
  /** One histogram per process. */
  keyByPid?: boolean;
  /** One histogram per command name. */
  keyByComm?: boolean;
  /** Refuse uprobe globs that match more functions than this. */
  maxGlobMatches?: number;
  /** Linear parts per log2 bucket, 1..16 (default 8): percentiles within 1/N of the truth. */
  subBuckets?: number;
  /** Compiled object to load (default bpf/obj/latency.bpf.o). */
  objectPath?: string;
}

/** Durations lost, by cause. */
export interface LatencyMisses {
  /** A return/end without a recorded entry (e.g. the function was entered before attach). */
  noEntry: number;
  /** Entries dropped because the in-flight map was full. */
  startFull: number;
  /** Durations dropped because the histogram map was full. */
  histFull: number;
}

/** One histogram key's data. Durations in ns. */
export interface LatencySeries {
  /** Human label of the key: function name, syscall name, disk, `pid N`, comm, or '' for a single series. */
  label: string;
  key: LatHistKey;
  /** Durations that completed in this interval. */
  interval: Log2Histogram;
  /** Since the probe was attached. */
  total: Log2Histogram;
}

/** What one read of a probe returns. Plain data. */
export interface LatencyBatch {
  /** Canonical spec text. */
  probe: string;
  /** Wall-clock ms since the epoch: the previous read (or attach) and this read. */
  startMs: number;
  endMs: number;
  /** Per key, sorted by label. */
  series: LatencySeries[];
  /** All keys merged. */
  interval: Log2Histogram;
  total: Log2Histogram;
  misses: LatencyMisses;
  missesTotal: LatencyMisses;
  /** Set when the traced binary was deleted or replaced since attach: the probe still watches the old file. */
  stale: string | null;
  /** Set when the --pid process no longer exists. */
  targetExited: boolean;
  /**
   * syscall probes: set when this interval saw no calls but the traced tasks entered a
   * syscall their library issues for the same function (lib/syscall-hints.ts); else null.
   */
  hint: string | null;
}

interface BinaryIdentity {
  path: string;
  dev: number;
  ino: number;
}

// ---------------------------------------------------------------------------------------
// Input resolution

/** resolveBinary of server/probes, its refusal as this collector's input error on the `binary` field. */
function resolveBinary(binary: string): string {
  try {
    return resolveProbeBinary(binary);
  } catch (error) {
    if (error instanceof ProbeInputError) throw new LatencyError('input', error.message, 'binary');
    throw error;
  }
}

function openElf(path: string): ElfFile {
  try {
    // ElfFile.open refuses a FIFO, device or directory without blocking (openRegularFile).
    return ElfFile.open(path);
  } catch (e) {
    if (e instanceof LatencyError) throw e;
    if (e instanceof ElfError) {
      const why = e.message.replace(`${path}: `, '').replace(/^not an ELF file \((.*)\)$/, '$1');
      throw new LatencyError('input', `${path} is not an ELF file (${why})`, 'binary');
    }
    throw new LatencyError('input', `cannot read binary ${path}: ${(e as Error).message}`, 'binary');
  }
}

/**
 * Functions of `path` a uprobe spec names (exact or glob), one per address: the one resolver
 * of server/probes (uprobeFunctionsOfElf states the rules), its refusals as LatencyErrors.
 */
export function resolveSymbols(path: string, symbol: string, glob: boolean, max = DEFAULT_MAX_GLOB_MATCHES): UprobeFunction[] {
  try {
    return resolveUprobeFunctions(path, symbol, { glob, max });
  } catch (error) {
    if (error instanceof ProbeInputError) throw new LatencyError('input', error.message, error.field ?? 'symbol');
    throw error;
  }
}

/** Checks that both USDT probes exist in `path`. */
export function checkUsdtProbes(path: string, provider: string, names: string[]): void {
  const elf = openElf(path);
  let probes;
  try {
    probes = usdtProbesOfElf(elf, () => undefined); // malformed notes are skipped
  } catch (e) {
    if (e instanceof UsdtError || e instanceof ElfError) throw new LatencyError('input', `cannot read the USDT notes of ${path}: ${e.message}`, 'probes');
    throw e;
  } finally {
    elf.close();
  }
  for (const name of names) {
    if (!probes.some((p) => p.provider === provider && p.name === name)) {
      const available = [...new Set(probes.map((p) => `${p.provider}:${p.name}`))];
      throw new LatencyError(
        'input',
        `USDT probe ${provider}:${name} not found in ${path} (${available.length === 0 ? 'it has no USDT probes' : `available: ${available.slice(0, 12).join(', ')}${available.length > 12 ? ', …' : ''}`})`,
        'probes',
      );
    }
  }
}

function checkPid(pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) throw new LatencyError('input', `pid must be a positive integer (got ${pid})`, 'pid');
  if (!existsSync(`/proc/${pid}`)) throw new LatencyError('input', `no process with pid ${pid}`, 'pid');
}

function identity(path: string): BinaryIdentity {
  const st = statSync(path);
  return { path, dev: st.dev, ino: st.ino };
}

function blockDeviceName(id: number): string {
  const { major, minor } = decodeDev(id);
  try {
    const m = /^DEVNAME=(.*)$/m.exec(readFileSync(`/sys/dev/block/${major}:${minor}/uevent`, 'utf8'));
    if (m) return m[1];
  } catch {
    // gone or unknown
  }
  return `${major}:${minor}`;
}

function zeroMisses(): LatencyMisses {
  return { noEntry: 0, startFull: 0, histFull: 0 };
}

// ---------------------------------------------------------------------------------------

export class LatencyCollector {
  /** Canonical spec text. */
  readonly probe: string;
  readonly spec: ProbeSpec;
  /** What was attached, one line each (for logs). */
  readonly attached: string[] = [];
  /** Resolved binary path (uprobe/usdt). */
  readonly binaryPath: string | null;
  #object: BpfObject | null;
  #hists: BpfMap;
  #buckets: BpfMap;
  #stats: BpfMap;
  #sysCounts: BpfMap;
  /** Fine parts per log2 bucket the kernel counts. */
  readonly subBuckets: number;
  /** syscall probes: alternatives counted for hints (lib/syscall-hints.ts), and their last cumulative counts. */
  #alternatives: { syscall: string; nr: number }[];
  #previousAlternatives = new Map<string, number>();
  #who: string;
  #labels = new Map<number, string>();
  #previous = new Map<string, Log2Histogram>();
  #previousMisses = zeroMisses();
  #lastReadMs: number;
  #identity: BinaryIdentity | null;
  #pid: number | undefined;
  #timer: NodeJS.Timeout | null = null;
  #keyed: boolean;

  private constructor(spec: ProbeSpec, object: BpfObject, binary: BinaryIdentity | null, labels: Map<number, string>, options: LatencyOptions) {
    this.spec = spec;
    this.probe = formatProbeSpec(spec);
    this.#object = object;
    this.#hists = object.map('lat_hists');
    this.#buckets = object.map('lat_buckets');
    this.#stats = object.map('lat_stats');
    this.#sysCounts = object.map('lat_sys_counts');
    this.subBuckets = options.subBuckets ?? DEFAULT_SUB_BUCKETS;
    const names = spec.kind === 'syscall' && spec.name !== '*' ? spec.name.split(',') : [];
    const seen = new Set<string>();
    this.#alternatives = alternativesFor(names)
      .filter(({ alternative }) => !seen.has(alternative.syscall) && !!seen.add(alternative.syscall))
      .map(({ alternative, nr }) => ({ syscall: alternative.syscall, nr }));
    this.#who = options.pid !== undefined ? 'this process' : options.comm !== undefined ? `threads named ${options.comm}` : 'the system';
    this.#labels = labels;
    this.#identity = binary;
    this.binaryPath = binary?.path ?? null;
    this.#pid = options.pid;
    this.#lastReadMs = Date.now();
    this.#keyed = labels.size > 1 || spec.kind === 'block' || (spec.kind === 'syscall' && (spec.name === '*' || spec.nrs.length > 1)) || !!options.keyByPid || !!options.keyByComm;
  }

  /**
   * Checks the inputs, loads and attaches. Synchronous (libbpf calls block briefly).
   * Throws LatencyError for anything the user must fix; nothing stays attached on failure.
   */
  static open(specInput: string | ProbeSpec, options: LatencyOptions = {}): LatencyCollector {
    // 1. Spec.
    let spec: ProbeSpec;
    if (typeof specInput === 'string') {
      const parsed = parseProbeSpec(specInput);
      if (!parsed.ok) throw new LatencyError('input', `bad probe spec "${specInput}": ${parsed.error.message} (at character ${parsed.error.position + 1})`, parsed.error.field);
      spec = parsed.spec;
    } else spec = specInput;

    // 2. Options and inputs that need no kernel.
    if (options.pid !== undefined) checkPid(options.pid);
    if (options.comm !== undefined && (options.comm.length === 0 || Buffer.byteLength(options.comm) > 15)) {
      throw new LatencyError('input', `comm must be 1 to 15 bytes (got "${options.comm}")`, 'comm');
    }
    if (options.subBuckets !== undefined && !(Number.isInteger(options.subBuckets) && options.subBuckets >= MIN_SUB_BUCKETS && options.subBuckets <= MAX_SUB_BUCKETS)) {
      throw new LatencyError('input', `sub-buckets must be a whole number from ${MIN_SUB_BUCKETS} to ${MAX_SUB_BUCKETS} (got ${options.subBuckets})`, 'subBuckets');
    }
    let binary: BinaryIdentity | null = null;
    let functions: UprobeFunction[] = [];
    const labels = new Map<number, string>();
    if (spec.kind === 'uprobe') {
      const path = resolveBinary(spec.binary);
      functions = resolveSymbols(path, spec.symbol, spec.glob, options.maxGlobMatches ?? DEFAULT_MAX_GLOB_MATCHES);
      binary = identity(path);
      functions.forEach((f, i) => labels.set(i, f.name));
    } else if (spec.kind === 'usdt') {
      const path = resolveBinary(spec.binary);
      checkUsdtProbes(path, spec.provider, [spec.start, spec.end]);
      binary = identity(path);
    } else if (spec.kind === 'kprobe' || spec.kind === 'kfunc') {
      const feature = spec.kind === 'kprobe' ? 'kprobes' : 'fentry';
      const result = probeFeature(feature);
      if (!result.available) {
        throw new LatencyError('feature', `${spec.kind}:${spec.function} refused: this kernel lacks ${spec.kind === 'kprobe' ? 'kprobes' : 'fentry/fexit (BPF trampolines)'}: ${result.notSupported.reason}`, 'function');
      }
    }
    if (spec.kind === 'syscall' || spec.kind === 'block' || spec.kind === 'runq') {
      const tracefs = ensureTracefs();
      if (!tracefs.mounted) throw new LatencyError('feature', `${formatProbeSpec(spec)} needs tracefs: ${tracefs.reason} (${tracefs.command})`);
    }

    // 3. Load with only this probe's programs.
    const object = BpfObject.open(options.objectPath ?? DEFAULT_OBJECT);
    try {
      object.setRodata({
        targ_pid: options.pid ?? 0,
        filter_pid: options.pid !== undefined,
        targ_comm: options.comm ?? '',
        filter_comm: options.comm !== undefined,
        key_by_pid: !!options.keyByPid,
        key_by_comm: !!options.keyByComm,
        filter_syscall: spec.kind === 'syscall' && spec.nrs.length > 0,
        targ_syscalls: syscallBitmap(spec.kind === 'syscall' ? spec.nrs : []),
        count_syscalls: spec.kind === 'syscall' && alternativesFor(spec.name === '*' ? [] : spec.name.split(',')).length > 0,
        sub_buckets: options.subBuckets ?? DEFAULT_SUB_BUCKETS,
      });
      const wanted = new Set<string>(LATENCY_PROGRAMS[spec.kind]);
      for (const name of ALL_LATENCY_PROGRAMS) object.program(name).setAutoload(wanted.has(name));
      if (spec.kind === 'kfunc') {
        setAttachTarget(object, 'lat_fentry', spec.function);
        setAttachTarget(object, 'lat_fexit', spec.function);
      }
      try {
        object.load();
      } catch (e) {
        if (spec.kind === 'kfunc') {
          const verifier = e instanceof BpfError ? e.log.filter((l) => !/permission error while running as root|failed to load object/.test(l)).slice(-2).join(' | ') : '';
          const detail = e instanceof BpfError ? `loading the fentry/fexit programs failed with ${errnoName(e.errno)}${verifier ? `; libbpf: ${verifier}` : ''}` : String(e);
          if (e instanceof BpfError && e.errno === 3) {
            throw new LatencyError('input', `kfunc:${spec.function} refused: no kernel function "${spec.function}" with BTF (${detail})`, 'function');
          }
          throw new LatencyError('feature', `kfunc:${spec.function} refused: this kernel does not allow fentry/fexit (BPF trampoline) programs (${detail})`, 'function');
        }
        throw e;
      }

      // 4. Attach.
      const collector = new LatencyCollector(spec, object, binary, labels, options);
      collector.#attach(functions, options.pid ?? -1);
      return collector;
    } catch (e) {
      object.close();
      if (e instanceof LatencyError) throw e;
      throw new LatencyError('kernel', `${formatProbeSpec(spec)}: ${(e as Error).message}`);
    }
  }

  #attach(functions: UprobeFunction[], pid: number): void {
    const object = this.#object!;
    const spec = this.spec;
    const note = (d: string) => this.attached.push(d);
    switch (spec.kind) {
      case 'uprobe':
        functions.forEach((f, i) => {
          for (const retprobe of [false, true]) {
            const link = attachUprobeAt(object, retprobe ? 'lat_uprobe_return' : 'lat_uprobe_entry', {
              binaryPath: this.binaryPath!,
              offset: f.offset,
              pid,
              retprobe,
              cookie: i,
              label: f.name,
            });
            note(link.description);
          }
        });
        break;
      case 'usdt':
        for (const [prog, name] of [
          ['lat_usdt_start', spec.start],
          ['lat_usdt_end', spec.end],
        ] as const) {
          note(attachUsdt(object, prog, { binaryPath: this.binaryPath!, provider: spec.provider, name, pid, cookie: 0 }).description);
        }
        break;
      case 'kprobe':
        try {
          note(attachKprobe(object, 'lat_kprobe_entry', spec.function, false).description);
          note(attachKprobe(object, 'lat_kprobe_return', spec.function, true).description);
        } catch (e) {
          const errno = e instanceof BpfError ? e.errno : 0;
          if (errno === 2 || errno === 22) throw new LatencyError('input', `kprobe:${spec.function} refused: no probeable kernel function "${spec.function}" (${(e as Error).message})`, 'function');
          throw e;
        }
        break;
      default:
        for (const name of LATENCY_PROGRAMS[spec.kind]) note(object.program(name).attach().description);
    }
  }

  #label(key: LatHistKey): string {
    const parts: string[] = [];
    if (this.#labels.size > 1) parts.push(this.#labels.get(key.probe) ?? `#${key.probe}`);
    if (this.spec.kind === 'syscall' && (this.spec.name === '*' || this.spec.nrs.length > 1)) parts.push(syscallName(key.id));
    if (this.spec.kind === 'block') parts.push(blockDeviceName(key.id));
    if (key.pid) parts.push(`pid ${key.pid}`);
    if (key.comm) parts.push(key.comm);
    return parts.join(' ');
  }

  #readMisses(): LatencyMisses {
    const ncpuSlots = this.#stats.lookupValueSize / 8;
    const sums: number[] = [];
    for (let i = 0; i < LAT_STAT_MAX; i++) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(i, 0);
      const v = this.#stats.lookup(key);
      let s = 0;
      if (v) for (let c = 0; c < ncpuSlots; c++) s += Number(v.readBigUInt64LE(c * 8));
      sums.push(s);
    }
    return { noEntry: sums[LAT_STAT.NO_ENTRY], startFull: sums[LAT_STAT.START_FULL], histFull: sums[LAT_STAT.HIST_FULL] };
  }

  /**
   * Cumulative histograms since load, per key: the fine buckets from lat_buckets, then sums and
   * extremes from lat_hists. Two snapshots of maps the kernel keeps writing, read in this
   * order so that the extremes (read second) bound every duration the buckets hold; the count
   * is the buckets' own total, so count and buckets always agree. A duration that lands
   * between the two reads is in the sum (and maybe the extremes) one read early.
   */
  #readCumulative(): { key: Buffer; histogram: Log2Histogram }[] {
    const parts = this.subBuckets;
    const fine = new Map<string, Map<number, number>>();
    const buckets = this.#buckets.snapshot(BATCH_CHUNK);
    buckets.keys.forEach((k, i) => {
      const { hist, slot, sub } = decodeBucketKey(k);
      const id = hist.toString('hex');
      let counts = fine.get(id);
      if (!counts) fine.set(id, (counts = new Map()));
      const f = slot * parts + sub;
      counts.set(f, (counts.get(f) ?? 0) + decodeBucketValue(buckets.values[i]));
    });
    const hists = this.#hists.snapshot(BATCH_CHUNK);
    return hists.keys.map((k, i) => {
      const v = decodeHistValue(hists.values[i]);
      const f = fineFromMap(fine.get(k.subarray(0, HIST_KEY.size).toString('hex')) ?? new Map(), parts)!;
      const count = f.counts.reduce((n, c) => n + c, 0);
      const histogram: Log2Histogram = { count, sum: v.sum, buckets: log2OfFine(f), fine: f };
      if (v.min !== null) histogram.min = v.min;
      if (v.max !== null) histogram.max = v.max;
      return { key: k, histogram };
    });
  }

  /** Cumulative syscall counts of the alternatives (summed over CPUs). */
  #readAlternatives(): Map<string, number> {
    const out = new Map<string, number>();
    const ncpuSlots = this.#sysCounts.lookupValueSize / 8;
    for (const { syscall, nr } of this.#alternatives) {
      const key = Buffer.alloc(4);
      key.writeUInt32LE(nr, 0);
      const v = this.#sysCounts.lookup(key);
      let n = 0;
      if (v) for (let c = 0; c < ncpuSlots; c++) n += Number(v.readBigUInt64LE(c * 8));
      out.set(syscall, n);
    }
    return out;
  }

  /** Whether the traced binary was deleted or replaced since attach; null when not. */
  staleReason(): string | null {
    const id = this.#identity;
    if (!id) return null;
    try {
      const st = statSync(id.path);
      if (st.ino !== id.ino || st.dev !== id.dev) return `${id.path} was replaced since the probe was attached (new inode); the probe still watches the old file: re-add it`;
      return null;
    } catch {
      return `${id.path} was deleted since the probe was attached; the probe still watches the old file`;
    }
  }

  /** Reads the kernel's histograms now. Durations in ns. Never throws for a stale binary or an exited target. */
  read(nowMs: number = Date.now()): LatencyBatch {
    if (!this.#object) throw new Error(`latency probe ${this.probe} is closed`);
    const series: LatencySeries[] = [];
    // start from empty fine histograms so an interval without durations still says its resolution
    const empty = (): Log2Histogram => ({ ...emptyHistogram(), fine: { parts: this.subBuckets, start: 0, counts: [] } });
    let interval = empty();
    let total = empty();
    for (const { key: k, histogram: cumulative } of this.#readCumulative()) {
      const id = k.toString('hex');
      const delta = subtractHistograms(cumulative, this.#previous.get(id) ?? empty());
      this.#previous.set(id, cumulative);
      const key = decodeHistKey(k);
      series.push({ label: this.#label(key), key, interval: delta, total: cumulative });
      interval = addHistograms(interval, delta);
      total = addHistograms(total, cumulative);
    }
    series.sort((a, b) => a.label.localeCompare(b.label) || a.key.probe - b.key.probe);
    const missesTotal = this.#readMisses();
    const prev = this.#previousMisses;
    const misses = {
      noEntry: missesTotal.noEntry - prev.noEntry,
      startFull: missesTotal.startFull - prev.startFull,
      histFull: missesTotal.histFull - prev.histFull,
    };
    this.#previousMisses = missesTotal;
    let hint: string | null = null;
    if (this.#alternatives.length > 0) {
      const now = this.#readAlternatives();
      const delta = new Map<string, number>();
      for (const [name, n] of now) delta.set(name, n - (this.#previousAlternatives.get(name) ?? 0));
      this.#previousAlternatives = now;
      if (interval.count === 0 && this.spec.kind === 'syscall') hint = syscallHint(this.spec.name.split(','), delta, this.#who);
    }
    const batch: LatencyBatch = {
      probe: this.probe,
      startMs: this.#lastReadMs,
      endMs: nowMs,
      series,
      interval,
      total,
      misses,
      missesTotal,
      stale: this.staleReason(),
      targetExited: this.#pid !== undefined && !existsSync(`/proc/${this.#pid}`),
      hint,
    };
    this.#lastReadMs = nowMs;
    return batch;
  }

  /** True when the data has more than one key (glob, syscall:*, block, keyed by pid/comm). */
  get keyed(): boolean {
    return this.#keyed;
  }

  /** Calls `listener` with a batch every `intervalMs`; a read error is passed as the second argument. */
  start(listener: (batch: LatencyBatch | null, error?: Error) => void, intervalMs = 1000): void {
    this.stopTimer();
    this.#timer = setInterval(() => {
      if (!this.#object) return;
      try {
        listener(this.read());
      } catch (e) {
        listener(null, e as Error);
      }
    }, intervalMs);
  }

  stopTimer(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  get closed(): boolean {
    return this.#object === null;
  }

  /** Detaches and unloads at once. Idempotent. */
  close(): void {
    this.stopTimer();
    const object = this.#object;
    this.#object = null;
    object?.close();
  }
}
