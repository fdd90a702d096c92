/**
 * The one latency probe spec grammar, used by the UI (validation as you type), the CLI
 * and the server API. Pure: no I/O, isomorphic.
 *
 * Grammar (close to bpftrace / bcc):
 *   uprobe:BINARY:SYMBOL                 user function, entry -> return, per thread.
 *                                        BINARY: a path (contains '/') or a library name
 *                                        (`c`, `libc`, `pthread`, ...). SYMBOL may be a glob (* ? [..]).
 *   usdt:BINARY:PROVIDER:START,END       two USDT probes on the same thread.
 *   syscall:NAME[,NAME...] | syscall:*  sys_enter -> sys_exit (x86_64 names); a comma list
 *                                        measures several syscalls as one probe (one series each).
 *   block                                block I/O request issue -> completion, keyed by disk.
 *   runq                                 wakeup -> running (run-queue latency).
 *   kprobe:FUNCTION                      kernel function via kprobe + kretprobe.
 *   kfunc:FUNCTION                       kernel function via fentry + fexit (`fentry:` is an alias).
 *
 * Whether a binary, symbol, probe or kernel feature exists is checked later by the
 * collector; this module only checks the shape.
 */
import { syscallNumber } from './syscalls.ts';

export type ProbeKind = 'uprobe' | 'usdt' | 'syscall' | 'block' | 'runq' | 'kprobe' | 'kfunc';
export const PROBE_KINDS: readonly ProbeKind[] = ['uprobe', 'usdt', 'syscall', 'block', 'runq', 'kprobe', 'kfunc'];

export type ProbeSpec =
  | {
      kind: 'uprobe';
      /** Path (contains '/') or library name to resolve like bcc (`c` -> libc). */
      binary: string;
      /** Symbol name or glob. */
      symbol: string;
      /** True when `symbol` contains glob characters (* ? [). */
      glob: boolean;
    }
  | { kind: 'usdt'; binary: string; provider: string; start: string; end: string }
  | {
      kind: 'syscall';
      /** Canonical names: one syscall, a comma list (`nanosleep,clock_nanosleep`), or '*' for every syscall (keyed by syscall). */
      name: string;
      /** x86_64 syscall numbers, in the order named; empty for '*'. */
      nrs: number[];
    }
  | { kind: 'block' }
  | { kind: 'runq' }
  | { kind: 'kprobe'; function: string }
  | { kind: 'kfunc'; function: string };

/** What is wrong with a spec. `position` is the 0-based character index where the problem starts. */
export interface ProbeSpecError {
  message: string;
  /** The field at fault: 'spec', 'type', 'binary', 'symbol', 'provider', 'probes', 'name', 'function'. */
  field: string;
  position: number;
}

export type ProbeSpecResult = { ok: true; spec: ProbeSpec } | { ok: false; error: ProbeSpecError };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Kernel function names may carry compiler suffixes such as `.isra.0` or `.cold`. */
const KFUNC = /^[A-Za-z_][A-Za-z0-9_.]*$/;
/** ELF symbol names: anything printable but whitespace and ':' (versions `@@GLIBC_2.2.5` allowed). */
const SYMBOL = /^[A-Za-z0-9_.$@?*\[\]!^-]+$/;
const GLOB_CHARS = /[*?[]/;

function fail(field: string, position: number, message: string): ProbeSpecResult {
  return { ok: false, error: { field, position, message } };
}

/** Splits `s` at ':' and returns the parts with their start offsets (relative to `base`). */
function splitColon(s: string, base: number, max: number): { text: string; pos: number }[] {
  const parts: { text: string; pos: number }[] = [];
  let start = 0;
  for (let i = 0; i < s.length && parts.length < max - 1; i++) {
    if (s[i] === ':') {
      parts.push({ text: s.slice(start, i), pos: base + start });
      start = i + 1;
    }
  }
  parts.push({ text: s.slice(start), pos: base + start });
  return parts;
}

function checkBinary(text: string, pos: number): ProbeSpecResult | null {
  if (text.length === 0) return fail('binary', pos, 'binary is empty: give a path (/usr/bin/foo) or a library name (c, libc)');
  if (/\s/.test(text)) return fail('binary', pos + text.search(/\s/), `binary "${text}" contains whitespace`);
  if (!text.includes('/') && !/^[A-Za-z0-9_.+-]+$/.test(text)) {
    return fail('binary', pos, `binary "${text}" is neither a path nor a library name`);
  }
  return null;
}

/** Parses one spec. Leading/trailing whitespace is ignored. */
export function parseProbeSpec(input: string): ProbeSpecResult {
  const lead = input.length - input.trimStart().length;
  const s = input.trim();
  if (s.length === 0) {
    return fail('spec', 0, `empty spec: expected one of ${PROBE_KINDS.map((k) => exampleFor(k)).join(', ')}`);
  }
  const colon = s.indexOf(':');
  const type = colon < 0 ? s : s.slice(0, colon);
  const rest = colon < 0 ? null : s.slice(colon + 1);
  const restPos = lead + colon + 1;

  switch (type) {
    case 'block':
    case 'runq':
      if (rest !== null) return fail('spec', lead + colon, `"${type}" takes no arguments (found ":${rest}")`);
      return { ok: true, spec: { kind: type } };

    case 'syscall': {
      if (rest === null || rest.length === 0) {
        return fail('name', rest === null ? lead + s.length : restPos, 'syscall name missing: expected syscall:NAME (e.g. syscall:read) or syscall:*');
      }
      if (rest === '*') return { ok: true, spec: { kind: 'syscall', name: '*', nrs: [] } };
      const names: string[] = [];
      const nrs: number[] = [];
      let pos = restPos;
      for (const item of rest.split(',')) {
        if (item.length === 0) return fail('name', pos, `empty syscall name in the list "${rest}" (expected syscall:NAME,NAME...)`);
        if (item === '*') return fail('name', pos, '"*" cannot be part of a list: use syscall:* alone');
        const name = item.startsWith('sys_') ? item.slice(4) : item;
        if (!IDENT.test(name)) return fail('name', pos, `syscall name "${item}" is not a valid name`);
        const nr = syscallNumber(name);
        if (nr === undefined) return fail('name', pos, `unknown syscall "${item}" (x86_64)`);
        if (names.includes(name)) return fail('name', pos, `syscall "${name}" is listed twice`);
        names.push(name);
        nrs.push(nr);
        pos += item.length + 1;
      }
      return { ok: true, spec: { kind: 'syscall', name: names.join(','), nrs } };
    }

    case 'kprobe':
    case 'kfunc':
    case 'fentry': {
      const kind = type === 'kprobe' ? 'kprobe' : 'kfunc';
      if (rest === null || rest.length === 0) {
        return fail('function', rest === null ? lead + s.length : restPos, `kernel function missing: expected ${kind}:FUNCTION (e.g. ${kind}:vfs_read)`);
      }
      if (!KFUNC.test(rest)) {
        if (GLOB_CHARS.test(rest)) return fail('function', restPos + rest.search(GLOB_CHARS), `globs are not supported for ${kind}: name one function`);
        return fail('function', restPos, `kernel function "${rest}" is not a valid name`);
      }
      return { ok: true, spec: { kind, function: rest } };
    }

    case 'uprobe': {
      if (rest === null) return fail('binary', lead + s.length, 'expected uprobe:BINARY:SYMBOL');
      const parts = splitColon(rest, restPos, 2);
      const bad = checkBinary(parts[0].text, parts[0].pos);
      if (bad) return bad;
      if (parts.length < 2) return fail('symbol', restPos + rest.length, 'symbol missing: expected uprobe:BINARY:SYMBOL');
      const sym = parts[1];
      if (sym.text.length === 0) return fail('symbol', sym.pos, 'symbol is empty: expected uprobe:BINARY:SYMBOL');
      if (!SYMBOL.test(sym.text)) {
        const at = sym.text.split('').findIndex((c) => !SYMBOL.test(c));
        return fail('symbol', sym.pos + Math.max(at, 0), `symbol "${sym.text}" has an invalid character "${sym.text[Math.max(at, 0)]}"`);
      }
      const glob = GLOB_CHARS.test(sym.text);
      if (glob && /^[*?]+$/.test(sym.text)) return fail('symbol', sym.pos, `symbol glob "${sym.text}" matches everything: narrow it`);
      if (sym.text.includes('[') && !/\[[^\]]+\]/.test(sym.text)) return fail('symbol', sym.pos + sym.text.indexOf('['), 'unclosed "[" in symbol glob');
      return { ok: true, spec: { kind: 'uprobe', binary: parts[0].text, symbol: sym.text, glob } };
    }

    case 'usdt': {
      if (rest === null) return fail('binary', lead + s.length, 'expected usdt:BINARY:PROVIDER:START,END');
      const parts = splitColon(rest, restPos, 3);
      const bad = checkBinary(parts[0].text, parts[0].pos);
      if (bad) return bad;
      if (parts.length < 2 || parts[1].text.length === 0) {
        return fail('provider', parts[1]?.pos ?? restPos + rest.length, 'USDT provider missing: expected usdt:BINARY:PROVIDER:START,END');
      }
      if (!IDENT.test(parts[1].text)) return fail('provider', parts[1].pos, `USDT provider "${parts[1].text}" is not a valid name`);
      if (parts.length < 3 || parts[2].text.length === 0) {
        return fail('probes', parts[2]?.pos ?? restPos + rest.length, 'USDT probes missing: expected START,END (two probe names)');
      }
      const probes = parts[2].text.split(',');
      if (probes.length !== 2) {
        return fail('probes', parts[2].pos, `expected exactly two USDT probes START,END, found ${probes.length}`);
      }
      let off = parts[2].pos;
      for (const p of probes) {
        if (!IDENT.test(p)) return fail('probes', off, p.length === 0 ? 'USDT probe name is empty' : `USDT probe "${p}" is not a valid name`);
        off += p.length + 1;
      }
      return { ok: true, spec: { kind: 'usdt', binary: parts[0].text, provider: parts[1].text, start: probes[0], end: probes[1] } };
    }

    default:
      return fail('type', lead, `unknown probe type "${type}": expected one of ${PROBE_KINDS.join(', ')}`);
  }
}

/** The canonical text of a spec (parseProbeSpec(formatProbeSpec(x)) deep-equals x). */
export function formatProbeSpec(spec: ProbeSpec): string {
  switch (spec.kind) {
    case 'uprobe':
      return `uprobe:${spec.binary}:${spec.symbol}`;
    case 'usdt':
      return `usdt:${spec.binary}:${spec.provider}:${spec.start},${spec.end}`;
    case 'syscall':
      return `syscall:${spec.name}`;
    case 'block':
    case 'runq':
      return spec.kind;
    case 'kprobe':
    case 'kfunc':
      return `${spec.kind}:${spec.function}`;
  }
}

/** A short example of each kind, for help texts and placeholders. */
export function exampleFor(kind: ProbeKind): string {
  switch (kind) {
    case 'uprobe':
      return 'uprobe:c:malloc';
    case 'usdt':
      return 'usdt:/usr/bin/python3.11:python:function__entry,function__return';
    case 'syscall':
      return 'syscall:read';
    case 'block':
      return 'block';
    case 'runq':
      return 'runq';
    case 'kprobe':
      return 'kprobe:vfs_read';
    case 'kfunc':
      return 'kfunc:vfs_read';
  }
}

/** A compiled glob: `test(name)` is true when the whole name matches. */
export interface GlobMatcher {
  readonly glob: string;
  test(name: string): boolean;
}

type GlobToken =
  | { kind: 'char'; code: number }
  | { kind: 'any' }
  | { kind: 'star' }
  /** `ranges` holds inclusive [low, high] UTF-16 code unit pairs. */
  | { kind: 'class'; negate: boolean; ranges: number[] };

function parseGlobClass(body: string, glob: string): GlobToken {
  let negate = false;
  let i = 0;
  if (body[0] === '!' || body[0] === '^') {
    negate = true;
    i = 1;
  }
  const ranges: number[] = [];
  while (i < body.length) {
    const low = body.charCodeAt(i);
    if (body[i + 1] === '-' && i + 2 < body.length) {
      const high = body.charCodeAt(i + 2);
      if (high < low) throw new Error(`glob "${glob}": range ${body[i]}-${body[i + 2]} is out of order in [${body}]`);
      ranges.push(low, high);
      i += 3;
    } else {
      ranges.push(low, low);
      i += 1;
    }
  }
  return { kind: 'class', negate, ranges };
}

function tokenMatches(t: GlobToken, code: number): boolean {
  switch (t.kind) {
    case 'char':
      return t.code === code;
    case 'any':
      return true;
    case 'class': {
      let inside = false;
      for (let k = 0; k < t.ranges.length && !inside; k += 2) inside = code >= t.ranges[k] && code <= t.ranges[k + 1];
      return inside !== t.negate;
    }
    case 'star':
      return false; // handled by the matcher
  }
}

/**
 * Compiles a shell-style glob: `*` (any run, also empty), `?` (one character), `[abc]`,
 * `[a-z]`, `[!abc]` / `[^abc]` (a `]` right after `[` or `[!` is a member; a `[` without a
 * closing `]` is literal). Every other character is literal. Matches whole names.
 *
 * Matching takes O(name × glob) time at worst and never backtracks further than the last
 * star: a glob is a sequence of star-separated segments, and a segment that fails to match
 * only ever moves the last star's start forward by one. (A RegExp with `.*` per star is
 * exponential in the number of stars: 70 stars hung the root collector.)
 */
export function compileGlob(glob: string): GlobMatcher {
  const tokens: GlobToken[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' }); // ** is *
    } else if (c === '?') tokens.push({ kind: 'any' });
    else if (c === '[') {
      const first = glob[i + 1] === '!' || glob[i + 1] === '^' ? i + 2 : i + 1;
      const close = glob.indexOf(']', first + 1);
      if (close < 0) tokens.push({ kind: 'char', code: c.charCodeAt(0) });
      else {
        tokens.push(parseGlobClass(glob.slice(i + 1, close), glob));
        i = close;
      }
    } else tokens.push({ kind: 'char', code: glob.charCodeAt(i) });
  }
  return {
    glob,
    test(name: string): boolean {
      let t = 0; // next token
      let n = 0; // next character of name
      let starToken = -1; // token after the last star seen
      let starName = 0; // where that star's run currently ends in name
      while (n < name.length) {
        const tok = tokens[t];
        if (tok !== undefined && tok.kind === 'star') {
          starToken = ++t;
          starName = n;
        } else if (tok !== undefined && tokenMatches(tok, name.charCodeAt(n))) {
          t++;
          n++;
        } else if (starToken >= 0) {
          // Let the last star swallow one more character and retry the segment after it.
          t = starToken;
          n = ++starName;
        } else return false;
      }
      while (t < tokens.length && tokens[t].kind === 'star') t++;
      return t === tokens.length;
    },
  };
}
