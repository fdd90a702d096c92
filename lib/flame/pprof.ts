/**
 * pprof export: a flame graph tree (FlameNode, lib/protocol.ts) as a perftools `Profile`
 * protobuf (github.com/google/pprof proto/profile.proto), the format `go tool pprof`,
 * Pyroscope and most profilers read. Encoded with the `pprof-format` package. Isomorphic:
 * no Node or DOM APIs; the gzip step is pluggable (see flameTreeToPprof).
 *
 * Mapping from the tree:
 * - The root (`all`) is not a frame and is skipped.
 * - Every node with self samples (value minus its children's) gives one Sample whose
 *   location_ids run leaf first (pprof's order), i.e. the reverse of a folded line.
 *   Self values are rounded to whole samples (pprof values are int64); a node whose rounded
 *   self value is 0 gives no Sample.
 * - One Function and one Location per distinct frame (name + kind + mapping), with location
 *   id == function id, one Line, and the location's mapping_id. No addresses.
 * - Function names are the folded-text spelling (lib/flame/tree.ts foldedFrame): kernel frames
 *   keep their `_[k]` suffix so they stay recognisable in every viewer (Pyroscope shows only
 *   names). Their filename is `[kernel]` and their system_name the bare symbol; JIT frames get
 *   the filename `[jit]`; a frame whose binary is known (FlameNode.m) gets the binary's path
 *   (we read no DWARF: the binary is the finest file we know). Other frames have no filename.
 * - Mappings, each has_functions (so pprof does not try to symbolize the locations again), ids
 *   from 1 in order of first use: one per binary of the tree's module table (FlameNode.m:
 *   filename = its path, build_id = its GNU build-id), `[kernel]` for kernel frames (with the
 *   running kernel's build-id when the tree's table has it), `[jit]` for JIT frames, and
 *   `[probeboard]` for frames of no binary (process roots, synthetic frames, trees read from
 *   folded text).
 * - Sample types: `samples`/`count` (configurable), then `cpu`/`nanoseconds` = samples ×
 *   period when a period is given (period_type cpu/nanoseconds). pprof's default sample type
 *   is the last one.
 */
import { Function as PprofFunction, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';
import type { FlameModule, FlameNode, FrameKind, ProfileType } from '../protocol.ts';
import { foldedFrame, selfValue } from './tree.ts';
import { crc32 } from '../crc32.ts';

export interface PprofOptions {
  /** First sample type. Default `{ type: 'samples', unit: 'count' }`. */
  sampleType?: { type: string; unit: string };
  /**
   * Sampling period in ns (e.g. 1e9 / Hz). When given, each sample also carries a
   * `cpu`/`nanoseconds` value (samples × period) and the profile's period_type/period are set.
   */
  periodNs?: number;
  /**
   * Start of the profile, ns since the epoch (e.g. the window's start ms x 1e6). Written as 0
   * (pprof's "unknown") only when not given: every caller with a time passes it.
   */
  timeNanos?: number;
  /** Length of the profile (the window or run it covers), ns. */
  durationNanos?: number;
  /**
   * Compressor for flameTreeToPprof, e.g. node:zlib's `gzipSync`. Default: a built-in gzip
   * writer that stores the data without compressing it (valid gzip, isomorphic).
   */
  gzip?: (data: Uint8Array) => Uint8Array;
}

/**
 * The sample type and period of a profile type's pprof file:
 * - cpu: `samples`/`count` plus `cpu`/`nanoseconds` at the period 1e9 / hz (when hz > 0);
 * - offcpu: `offcpu`/`microseconds`, wall: `wall`/`microseconds`: the widths are already time,
 *   and no period (a period would make pprof multiply µs by it).
 */
export function pprofTypeOptions(type: ProfileType | undefined, hz: number): Pick<PprofOptions, 'sampleType' | 'periodNs'> {
  if (type === 'offcpu' || type === 'wall') return { sampleType: { type, unit: 'microseconds' } };
  return hz > 0 ? { periodNs: Math.round(1e9 / hz) } : {};
}

/** Filename given to functions of a frame kind ('' = none). */
function filenameOf(kind: FrameKind | undefined): string {
  return kind === 'k' ? '[kernel]' : kind === 'j' ? '[jit]' : '';
}

/** The pprof-format Profile object for a tree (not yet encoded). */
export function flameTreeToProfile(tree: FlameNode, options: PprofOptions = {}): Profile {
  const strings = new StringTable();
  const sampleType = options.sampleType ?? { type: 'samples', unit: 'count' };
  const periodNs = options.periodNs !== undefined && options.periodNs > 0 ? Math.round(options.periodNs) : undefined;
  const sampleTypes = [new ValueType({ type: strings.dedup(sampleType.type), unit: strings.dedup(sampleType.unit) })];
  if (periodNs !== undefined) sampleTypes.push(new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }));

  const modules = tree.modules ?? [];
  const mappings: Mapping[] = [];
  const mappingIds = new Map<string, number>();
  const mappingOf = (module: FlameModule): number => {
    const key = `${module.file}\u0000${module.buildId ?? ''}`;
    let id = mappingIds.get(key);
    if (id === undefined) {
      id = mappings.length + 1;
      mappingIds.set(key, id);
      mappings.push(new Mapping({
        id,
        filename: strings.dedup(module.file),
        ...(module.buildId !== undefined && { buildId: strings.dedup(module.buildId) }),
        hasFunctions: true,
      }));
    }
    return id;
  };
  /** A node's binary: from the module table, else a pseudo-binary by kind. */
  const moduleOf = (node: FlameNode): { module: FlameModule; known: boolean } => {
    const known = node.m !== undefined ? modules[node.m] : undefined;
    if (known) return { module: known, known: true };
    if (node.k === 'k') return { module: { file: '[kernel]' }, known: false };
    if (node.k === 'j') return { module: { file: '[jit]' }, known: false };
    return { module: { file: '[probeboard]' }, known: false };
  };
  const functions: PprofFunction[] = [];
  const locations: Location[] = [];
  const ids = new Map<string, number>();
  const locationOf = (node: FlameNode): number => {
    const name = foldedFrame(node.n, node.k);
    const { module, known } = moduleOf(node);
    const mappingId = mappingOf(module);
    const key = `${node.k ?? ''}\u0000${name}\u0000${mappingId}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = functions.length + 1;
      ids.set(key, id);
      functions.push(
        new PprofFunction({
          id,
          name: strings.dedup(name),
          systemName: strings.dedup(node.k === 'k' ? node.n : name),
          filename: strings.dedup(known && node.k !== 'k' ? module.file : filenameOf(node.k)),
        }),
      );
      locations.push(new Location({ id, mappingId, line: [{ functionId: id }] }));
    }
    return id;
  };

  const samples: Sample[] = [];
  // Depth-first walk keeping the path (root first) of location ids.
  const path: number[] = [];
  const walk = (node: FlameNode): void => {
    const self = Math.round(selfValue(node));
    if (self > 0 && path.length > 0) {
      const value: number[] = [self];
      if (periodNs !== undefined) value.push(self * periodNs);
      samples.push(new Sample({ locationId: path.slice().reverse(), value }));
    }
    for (const child of node.c ?? []) {
      if (!(child.v > 0)) continue;
      path.push(locationOf(child));
      walk(child);
      path.pop();
    }
  };
  walk(tree);

  return new Profile({
    sampleType: sampleTypes,
    sample: samples,
    mapping: mappings,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: options.timeNanos !== undefined ? Math.round(options.timeNanos) : 0,
    durationNanos: options.durationNanos !== undefined ? Math.round(options.durationNanos) : 0,
    periodType: periodNs !== undefined ? new ValueType({ type: strings.dedup('cpu'), unit: strings.dedup('nanoseconds') }) : undefined,
    period: periodNs ?? 0,
  });
}

/** The uncompressed Profile protobuf for a tree (see the module comment for the mapping). */
export function encodePprof(tree: FlameNode, options: PprofOptions = {}): Uint8Array {
  return flameTreeToProfile(tree, options).encode();
}

/**
 * The gzipped Profile protobuf for a tree: the bytes of a `.pb.gz` file. Compressed with
 * `options.gzip` (pass node:zlib's gzipSync on the server) or, by default, wrapped in a valid
 * but uncompressed gzip stream. In a browser, `gzipAsync(encodePprof(tree))` compresses.
 */
export function flameTreeToPprof(tree: FlameNode, options: PprofOptions = {}): Uint8Array {
  const raw = encodePprof(tree, options);
  return (options.gzip ?? gzipStored)(raw);
}

/** Gzip with the platform's CompressionStream (browsers, Node >= 18). */
export async function gzipAsync(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** CRC-32 lives in lib/crc32.ts (the symbolizer's .gnu_debuglink check uses it too); re-exported for the gzip users. */
export { crc32 };

/**
 * A gzip stream (RFC 1952) whose deflate data (RFC 1951) is made of stored blocks: no
 * compression, synchronous, no dependencies. Any gunzip reads it.
 */
export function gzipStored(data: Uint8Array): Uint8Array {
  const BLOCK = 65535;
  const blocks = Math.max(1, Math.ceil(data.length / BLOCK));
  const out = new Uint8Array(10 + blocks * 5 + data.length + 8);
  // Header: magic, CM=8 (deflate), no flags, mtime 0, XFL 0, OS 255 (unknown).
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], 0);
  let at = 10;
  for (let b = 0; b < blocks; b++) {
    const start = b * BLOCK;
    const len = Math.min(BLOCK, data.length - start);
    out[at++] = b === blocks - 1 ? 1 : 0; // BFINAL, BTYPE=00 (stored)
    out[at++] = len & 0xff;
    out[at++] = len >>> 8;
    out[at++] = ~len & 0xff;
    out[at++] = (~len >>> 8) & 0xff;
    out.set(data.subarray(start, start + len), at);
    at += len;
  }
  const crc = crc32(data);
  const size = data.length >>> 0;
  out.set([crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24, size & 0xff, (size >>> 8) & 0xff, (size >>> 16) & 0xff, size >>> 24], at);
  return out;
}
