/**
 * The spec grammar of event streams (`probeboard events SPEC`, the dashboard's events panel).
 * Pure: no I/O, isomorphic. Whether a binary, symbol, probe, tracepoint or field exists is
 * checked later by the collector.
 *
 *   exec                                     every process start: filename and argv
 *   tracepoint:CATEGORY:NAME                 every field of the tracepoint (`tp:` is an alias)
 *   tracepoint:CATEGORY:NAME(F1,F2,...)      only these fields, in this order
 *   uprobe:BINARY:SYMBOL                     the first six arguments as u64 integers
 *   uprobe:BINARY:SYMBOL(ARG[:TYPE], ...)    chosen arguments: ARG is arg0..arg5 (x86_64
 *                                            register arguments), TYPE one of u8 u16 u32 u64
 *                                            s8 s16 s32 s64 x64 (hex) str (NUL-terminated
 *                                            user string, at most 127 bytes, 4 per probe)
 *   usdt:BINARY:PROVIDER:NAME                every argument, sized and signed as its argument spec says
 *   usdt:BINARY:PROVIDER:NAME(ARG[:TYPE], ...) chosen arguments, arg0..arg7, same TYPEs
 *
 * BINARY is a path (contains '/') or a library name resolved like bcc (`c` -> libc).
 * SYMBOL is the ELF name (mangled for C++) or the demangled name; it may contain `::`.
 */

export type EventArgType = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'x64' | 'str';
export const EVENT_ARG_TYPES: readonly EventArgType[] = ['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'x64', 'str'];
/** Aliases accepted for types. */
const TYPE_ALIASES: Record<string, EventArgType> = { int: 's32', long: 's64', i8: 's8', i16: 's16', i32: 's32', i64: 's64', ptr: 'x64', hex: 'x64', string: 'str' };

export interface EventArg {
  /** Argument index (arg0 = 0). */
  index: number;
  /** Omitted: u64 for uprobe, the argument spec's size/sign for usdt. */
  type?: EventArgType;
}

export type EventSpec =
  | { kind: 'exec' }
  | { kind: 'tracepoint'; category: string; name: string; fields?: string[] }
  | { kind: 'uprobe'; binary: string; symbol: string; args?: EventArg[] }
  | { kind: 'usdt'; binary: string; provider: string; name: string; args?: EventArg[] };

export interface EventSpecError {
  message: string;
  /** 0-based index in the input where the problem starts. */
  position: number;
}

export type EventSpecResult = { ok: true; spec: EventSpec } | { ok: false; error: EventSpecError };

export const MAX_UPROBE_ARGS = 6;
export const MAX_USDT_ARGS = 8;
export const MAX_STRING_ARGS = 4;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TP_NAME = /^[A-Za-z0-9_.-]+$/;

function fail(position: number, message: string): EventSpecResult {
  return { ok: false, error: { position, message } };
}

/** Splits a trailing `( ... )` list off `text` (which starts at `pos`). */
function splitList(text: string, pos: number): { head: string; list?: { items: { text: string; pos: number }[] } } | EventSpecResult {
  const open = text.indexOf('(');
  if (open < 0) {
    if (text.includes(')')) return fail(pos + text.indexOf(')'), 'unbalanced ")"');
    return { head: text };
  }
  if (!text.endsWith(')')) return fail(pos + text.length, 'missing ")" at the end of the list');
  const body = text.slice(open + 1, -1);
  if (body.includes('(') || body.includes(')')) return fail(pos + open + 1, 'nested parentheses in the list');
  const items: { text: string; pos: number }[] = [];
  let start = 0;
  for (const part of body.split(',')) {
    const lead = part.length - part.trimStart().length;
    items.push({ text: part.trim(), pos: pos + open + 1 + start + lead });
    start += part.length + 1;
  }
  if (items.length === 1 && items[0].text === '') return fail(pos + open, 'empty list "()": name at least one item, or leave the parentheses out');
  return { head: text.slice(0, open), list: { items } };
}

function parseArgs(items: { text: string; pos: number }[], max: number): EventArg[] | EventSpecResult {
  const args: EventArg[] = [];
  const seen = new Set<number>();
  let strings = 0;
  for (const item of items) {
    const m = /^arg(\d+)(?:\s*:\s*([A-Za-z0-9]+))?$/.exec(item.text);
    if (!m) return fail(item.pos, `"${item.text}" is not an argument: expected argN or argN:TYPE (e.g. arg0:str, arg1:u64)`);
    const index = Number(m[1]);
    if (index >= max) return fail(item.pos, `arg${index} is out of range: arg0 to arg${max - 1} can be read`);
    if (seen.has(index)) return fail(item.pos, `arg${index} is listed twice`);
    seen.add(index);
    const arg: EventArg = { index };
    if (m[2] !== undefined) {
      const t = (EVENT_ARG_TYPES as readonly string[]).includes(m[2]) ? (m[2] as EventArgType) : TYPE_ALIASES[m[2]];
      if (!t) return fail(item.pos + item.text.indexOf(m[2]), `unknown type "${m[2]}": expected one of ${EVENT_ARG_TYPES.join(', ')}`);
      arg.type = t;
      if (t === 'str' && ++strings > MAX_STRING_ARGS) return fail(item.pos, `at most ${MAX_STRING_ARGS} string arguments per probe`);
    }
    args.push(arg);
  }
  return args;
}

function checkBinary(text: string, pos: number): EventSpecResult | null {
  if (text.length === 0) return fail(pos, 'binary is empty: give a path (/usr/bin/foo) or a library name (c, libc)');
  if (/\s/.test(text)) return fail(pos + text.search(/\s/), `binary "${text}" contains whitespace`);
  if (!text.includes('/') && !/^[A-Za-z0-9_.+-]+$/.test(text)) return fail(pos, `binary "${text}" is neither a path nor a library name`);
  return null;
}

/** Parses an events spec. */
export function parseEventSpec(input: string): EventSpecResult {
  const lead = input.length - input.trimStart().length;
  const s = input.trim();
  if (s === '') return fail(0, 'empty spec: expected exec, tracepoint:CATEGORY:NAME, uprobe:BINARY:SYMBOL or usdt:BINARY:PROVIDER:NAME');
  const colon = s.indexOf(':');
  const type = colon < 0 ? s : s.slice(0, colon);
  const rest = colon < 0 ? '' : s.slice(colon + 1);
  const restPos = lead + colon + 1;
  switch (type) {
    case 'exec':
      if (colon >= 0) return fail(lead + colon, '"exec" takes no arguments');
      return { ok: true, spec: { kind: 'exec' } };
    case 'tracepoint':
    case 'tp': {
      const split = splitList(rest, restPos);
      if ('ok' in split) return split;
      const parts = split.head.split(':');
      if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return fail(restPos, 'expected tracepoint:CATEGORY:NAME (e.g. tracepoint:sched:sched_switch)');
      if (!TP_NAME.test(parts[0])) return fail(restPos, `tracepoint category "${parts[0]}" is not a valid name`);
      if (!TP_NAME.test(parts[1])) return fail(restPos + parts[0].length + 1, `tracepoint name "${parts[1]}" is not a valid name`);
      const spec: EventSpec = { kind: 'tracepoint', category: parts[0], name: parts[1] };
      if (split.list) {
        const fields: string[] = [];
        for (const item of split.list.items) {
          if (!IDENT.test(item.text)) return fail(item.pos, `"${item.text}" is not a field name`);
          if (fields.includes(item.text)) return fail(item.pos, `field ${item.text} is listed twice`);
          fields.push(item.text);
        }
        spec.fields = fields;
      }
      return { ok: true, spec };
    }
    case 'uprobe': {
      const split = splitList(rest, restPos);
      if ('ok' in split) return split;
      const c = split.head.indexOf(':');
      if (c < 0) return fail(restPos + split.head.length, 'symbol missing: expected uprobe:BINARY:SYMBOL');
      const binary = split.head.slice(0, c);
      const symbol = split.head.slice(c + 1);
      const bad = checkBinary(binary, restPos);
      if (bad) return bad;
      if (symbol === '') return fail(restPos + c + 1, 'symbol is empty: expected uprobe:BINARY:SYMBOL');
      if (/[\s*?[\]]/.test(symbol)) return fail(restPos + c + 1 + symbol.search(/[\s*?[\]]/), `symbol "${symbol}" must name one function (no spaces or globs)`);
      const spec: EventSpec = { kind: 'uprobe', binary, symbol };
      if (split.list) {
        const args = parseArgs(split.list.items, MAX_UPROBE_ARGS);
        if (!Array.isArray(args)) return args;
        spec.args = args;
      }
      return { ok: true, spec };
    }
    case 'usdt': {
      const split = splitList(rest, restPos);
      if ('ok' in split) return split;
      const parts = split.head.split(':');
      if (parts.length !== 3) return fail(restPos, 'expected usdt:BINARY:PROVIDER:NAME');
      const bad = checkBinary(parts[0], restPos);
      if (bad) return bad;
      const providerPos = restPos + parts[0].length + 1;
      if (!IDENT.test(parts[1])) return fail(providerPos, parts[1] === '' ? 'USDT provider missing' : `USDT provider "${parts[1]}" is not a valid name`);
      if (!IDENT.test(parts[2])) return fail(providerPos + parts[1].length + 1, parts[2] === '' ? 'USDT probe name missing' : `USDT probe "${parts[2]}" is not a valid name`);
      const spec: EventSpec = { kind: 'usdt', binary: parts[0], provider: parts[1], name: parts[2] };
      if (split.list) {
        const args = parseArgs(split.list.items, MAX_USDT_ARGS);
        if (!Array.isArray(args)) return args;
        spec.args = args;
      }
      return { ok: true, spec };
    }
    default:
      return fail(lead, `unknown event type "${type}": expected exec, tracepoint, uprobe or usdt`);
  }
}

function formatArgs(args: EventArg[] | undefined): string {
  return args ? `(${args.map((a) => `arg${a.index}${a.type ? `:${a.type}` : ''}`).join(',')})` : '';
}

/** The canonical text of a spec (parseEventSpec(formatEventSpec(x)) deep-equals x). */
export function formatEventSpec(spec: EventSpec): string {
  switch (spec.kind) {
    case 'exec':
      return 'exec';
    case 'tracepoint':
      return `tracepoint:${spec.category}:${spec.name}${spec.fields ? `(${spec.fields.join(',')})` : ''}`;
    case 'uprobe':
      return `uprobe:${spec.binary}:${spec.symbol}${formatArgs(spec.args)}`;
    case 'usdt':
      return `usdt:${spec.binary}:${spec.provider}:${spec.name}${formatArgs(spec.args)}`;
  }
}
