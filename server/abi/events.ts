/**
 * TypeScript mirror of bpf/events.h: constants, struct layouts, and decoders for the records
 * events.bpf.c sends (a 40-byte pb_event_header, then `data_size` bytes by kind).
 * events.test.ts checks every number here against the header compiled by cc.
 */

export const PB_EV_COMM_LEN = 16;
export const PB_EV_MAX_PROBES = 64;
export const PB_EV_ARGS_SIZE = 2048;
export const PB_EV_FILENAME_SIZE = 256;
export const PB_EV_TP_MAX = 2048;
export const PB_EV_MAX_ARGS = 8;
export const PB_EV_MAX_STRS = 4;
export const PB_EV_STR_SIZE = 128;

export const PB_EV_KIND = { EXEC: 1, TRACEPOINT: 2, UPROBE: 3, USDT: 4 } as const;
export const PB_ARG = { NONE: 0, INT: 1, STR: 2 } as const;
export const PB_EV_STAT = { SEEN: 0, SENT: 1, LOST: 2, TRUNCATED: 3 } as const;
export const PB_EV_STAT_MAX = 4;

export const PB_EVENT_HEADER = {
  size: 40,
  offsets: { ts_ns: 0, pid: 8, tid: 12, probe_id: 16, kind: 20, data_size: 22, comm: 24 },
} as const;

export const PB_EXEC_DATA = {
  size: 24 + PB_EV_FILENAME_SIZE + PB_EV_ARGS_SIZE,
  offsets: { ppid: 0, uid: 4, old_pid: 8, filename_len: 12, args_len: 14, args_truncated: 16, filename: 24, args: 24 + PB_EV_FILENAME_SIZE },
} as const;

export const PB_CALL_DATA = {
  size: PB_EV_MAX_ARGS * 8 + PB_EV_MAX_ARGS * 4 + PB_EV_MAX_STRS * 4 + PB_EV_MAX_STRS * PB_EV_STR_SIZE,
  offsets: {
    args: 0,
    arg_err: PB_EV_MAX_ARGS * 8,
    str_len: PB_EV_MAX_ARGS * 12,
    str: PB_EV_MAX_ARGS * 12 + PB_EV_MAX_STRS * 4,
  },
} as const;

/** The common part of every record. */
export interface EventHeader {
  /** CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns). */
  tsNs: bigint;
  /** Process id (tgid). */
  pid: number;
  /** Thread id. */
  tid: number;
  /** Which probe of the object fired (attach cookie). */
  probeId: number;
  kind: number;
  /** Bytes after the header. */
  dataSize: number;
  comm: string;
}

function cString(buf: Buffer, start: number, end: number): string {
  const nul = buf.indexOf(0, start);
  return buf.toString('utf8', start, nul >= 0 && nul < end ? nul : end);
}

/** Decodes the header; throws RangeError when the record is shorter than a header or its data. */
export function decodeEventHeader(buf: Buffer): EventHeader {
  const o = PB_EVENT_HEADER.offsets;
  if (buf.length < PB_EVENT_HEADER.size) throw new RangeError(`event record of ${buf.length} bytes is shorter than its header`);
  const header: EventHeader = {
    tsNs: buf.readBigUInt64LE(o.ts_ns),
    pid: buf.readUInt32LE(o.pid),
    tid: buf.readUInt32LE(o.tid),
    probeId: buf.readUInt32LE(o.probe_id),
    kind: buf.readUInt16LE(o.kind),
    dataSize: buf.readUInt16LE(o.data_size),
    comm: cString(buf, o.comm, o.comm + PB_EV_COMM_LEN),
  };
  if (PB_EVENT_HEADER.size + header.dataSize > buf.length) throw new RangeError(`event record of ${buf.length} bytes is shorter than its ${header.dataSize} data bytes`);
  return header;
}

/** The data bytes of a record (after the header). */
export function eventData(buf: Buffer, header: EventHeader): Buffer {
  return buf.subarray(PB_EVENT_HEADER.size, PB_EVENT_HEADER.size + header.dataSize);
}

export interface ExecData {
  ppid: number;
  uid: number;
  /** Thread that called execve. */
  oldPid: number;
  filename: string;
  /** argv, as the new program sees it. */
  argv: string[];
  /** The command line was longer than PB_EV_ARGS_SIZE bytes and was cut. */
  argsTruncated: boolean;
}

export function decodeExecData(data: Buffer): ExecData {
  const o = PB_EXEC_DATA.offsets;
  if (data.length < o.filename) throw new RangeError(`exec data of ${data.length} bytes is too short`);
  const argsLen = Math.min(data.readUInt16LE(o.args_len), Math.max(0, data.length - o.args));
  const args = data.subarray(o.args, o.args + argsLen);
  let argv = args.length === 0 ? [] : args.toString('utf8').split('\0');
  if (argv.length > 0 && argv[argv.length - 1] === '') argv = argv.slice(0, -1);
  return {
    ppid: data.readUInt32LE(o.ppid),
    uid: data.readUInt32LE(o.uid),
    oldPid: data.readUInt32LE(o.old_pid),
    filename: cString(data, o.filename, Math.min(data.length, o.filename + PB_EV_FILENAME_SIZE)),
    argv,
    argsTruncated: data.readUInt32LE(o.args_truncated) !== 0,
  };
}

export interface CallData {
  /** Raw 64-bit argument values. */
  args: bigint[];
  /** 0 or -errno per argument (usdt: the argument could not be read). */
  argErr: number[];
  /** Per string slot: the string read, or the negative errno of the failed read. */
  strings: (string | number)[];
}

export function decodeCallData(data: Buffer): CallData {
  const o = PB_CALL_DATA.offsets;
  if (data.length < o.str) throw new RangeError(`call data of ${data.length} bytes is too short (${o.str})`);
  const args: bigint[] = [];
  const argErr: number[] = [];
  for (let i = 0; i < PB_EV_MAX_ARGS; i++) {
    args.push(data.readBigUInt64LE(o.args + i * 8));
    argErr.push(data.readInt32LE(o.arg_err + i * 4));
  }
  const strings: (string | number)[] = [];
  for (let s = 0; s < PB_EV_MAX_STRS; s++) {
    // Slots beyond the data sent were not in use.
    const n = data.readInt32LE(o.str_len + s * 4);
    const start = o.str + s * PB_EV_STR_SIZE;
    const end = Math.min(start + Math.min(Math.max(n, 0), PB_EV_STR_SIZE), data.length);
    strings.push(n < 0 ? n : start < data.length ? cString(data, start, end) : '');
  }
  return { args, argErr, strings };
}
