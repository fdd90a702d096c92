/**
 * errno -> readable messages, the error type every libbpf wrapper throws, and a capture of
 * libbpf's own log lines (so a failed load can say what the verifier said).
 *
 * libbpf 1.x returns negative errno from int functions and NULL + errno from pointer functions.
 */
import { getSystemErrorMap } from 'node:util';
import * as ffi from './ffi.ts';

const MESSAGES: Record<number, [string, string]> = {
  1: ['EPERM', 'Operation not permitted'],
  2: ['ENOENT', 'No such file or directory'],
  3: ['ESRCH', 'No such process'],
  4: ['EINTR', 'Interrupted system call'],
  5: ['EIO', 'I/O error'],
  7: ['E2BIG', 'Argument list too long'],
  9: ['EBADF', 'Bad file descriptor'],
  11: ['EAGAIN', 'Resource temporarily unavailable'],
  12: ['ENOMEM', 'Out of memory'],
  13: ['EACCES', 'Permission denied'],
  14: ['EFAULT', 'Bad address'],
  16: ['EBUSY', 'Device or resource busy'],
  17: ['EEXIST', 'File exists'],
  19: ['ENODEV', 'No such device'],
  22: ['EINVAL', 'Invalid argument'],
  24: ['EMFILE', 'Too many open files'],
  28: ['ENOSPC', 'No space left on device'],
  38: ['ENOSYS', 'Function not implemented'],
  95: ['EOPNOTSUPP', 'Operation not supported'],
  524: ['ENOTSUPP', 'Operation not supported by this kernel'],
};

/** Symbolic name of a (positive or negative) errno, e.g. 13 -> 'EACCES'. */
export function errnoName(errno: number): string {
  const code = Math.abs(errno);
  return MESSAGES[code]?.[0] ?? getSystemErrorMap().get(-code)?.[0] ?? `errno ${code}`;
}

/** Human message for a (positive or negative) errno, e.g. -13 -> 'Permission denied'. */
export function errnoMessage(errno: number): string {
  const code = Math.abs(errno);
  const known = MESSAGES[code]?.[1] ?? getSystemErrorMap().get(-code)?.[1];
  return known ? `${known[0].toUpperCase()}${known.slice(1)}` : `errno ${code}`;
}

/** A failed kernel or libbpf operation. `errno` is positive; `message` is meant for people. */
export class BpfError extends Error {
  readonly errno: number;
  readonly operation: string;
  /** libbpf log lines printed during the failed call (verifier output etc.), possibly empty. */
  readonly log: string[];
  constructor(operation: string, errno: number, detail?: string, log: string[] = []) {
    const code = Math.abs(errno);
    super(`${operation} failed: ${errnoMessage(code)} (${errnoName(code)})${detail ? ` — ${detail}` : ''}`);
    this.name = 'BpfError';
    this.errno = code;
    this.operation = operation;
    this.log = log;
  }
}

/** Hint appended to permission errors. */
export function privilegeHint(errno: number): string | undefined {
  const code = Math.abs(errno);
  return code === 1 || code === 13 ? 'run as root (or grant CAP_BPF and CAP_PERFMON)' : undefined;
}

// --- libbpf log capture -------------------------------------------------------------------

const LOG_LIMIT = 400;
let logLines: string[] = [];
let printCallback: ffi.Ptr | null = null;
const formatBuffer = Buffer.alloc(4096);

function onLibbpfPrint(_level: number, fmt: ffi.Ptr, args: ffi.Ptr): number {
  const length = ffi.vsnprintf(formatBuffer, formatBuffer.length, fmt, args);
  const text = formatBuffer.toString('utf8', 0, Math.max(0, Math.min(length, formatBuffer.length - 1)));
  for (const line of text.split('\n')) {
    if (line.length === 0) continue;
    logLines.push(line);
    if (process.env.PB_LIBBPF_DEBUG === '1') {
      process.stderr.write(`libbpf: ${line}\n`);
    }
  }
  if (logLines.length > LOG_LIMIT) logLines = logLines.slice(-LOG_LIMIT);
  return 0;
}

/**
 * Routes libbpf's messages into an in-memory log instead of stderr (set PB_LIBBPF_DEBUG=1 to
 * also print them). Idempotent; the callback lives until process exit.
 */
export function captureLibbpfLog(): void {
  if (printCallback !== null) return;
  printCallback = ffi.registerCallback(onLibbpfPrint as (...args: never[]) => unknown, ffi.libbpf_print_fn_t);
  ffi.libbpf_set_print(printCallback);
  // A process-wide singleton, not a handle: at exit libbpf is silenced before the callback goes.
  process.once('exit', () => {
    if (printCallback === null) return;
    ffi.libbpf_set_print(null);
    ffi.unregisterCallback(printCallback);
    printCallback = null;
  });
}

/** Returns the log lines captured since the last call and forgets them. */
export function takeLibbpfLog(): string[] {
  const lines = logLines;
  logLines = [];
  return lines;
}

/**
 * Runs a libbpf call that returns an int (0 or positive on success, negative errno on error).
 * Throws a BpfError naming `operation` with the libbpf log of the call.
 */
export function checkInt(operation: string, call: () => number, detail?: (errno: number) => string | undefined): number {
  captureLibbpfLog();
  takeLibbpfLog();
  const result = call();
  if (result < 0) {
    const errno = -result;
    throw new BpfError(operation, errno, detail?.(errno) ?? privilegeHint(errno), takeLibbpfLog());
  }
  return result;
}

/** Runs a libbpf call that returns a pointer (NULL + errno on error). */
export function checkPtr(operation: string, call: () => ffi.Ptr | null, detail?: (errno: number) => string | undefined): ffi.Ptr {
  captureLibbpfLog();
  takeLibbpfLog();
  const result = call();
  if (result === null || result === 0n) {
    const errno = ffi.errno() || 22;
    throw new BpfError(operation, errno, detail?.(errno) ?? privilegeHint(errno), takeLibbpfLog());
  }
  return result;
}
