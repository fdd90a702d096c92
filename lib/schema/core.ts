/**
 * The one way untrusted data is checked in probeboard: a valibot schema per message (the files
 * next to this one), and `check` here, which returns the typed value or one line naming the
 * field, the reason and the value received, e.g.
 * `profile:configure: hz must be a whole number of Hz from 1 to 10000, got 5000`.
 *
 * Objects are strict (an unknown field is refused by name) and must be plain (`{…}` as JSON
 * makes them: no arrays, Maps, Buffers or class instances). `__proto__`, `constructor` and
 * `prototype` are never fields of a schema, so they are refused as unknown, never copied.
 * Nothing here throws on bad input. Isomorphic: no Node or DOM APIs.
 */
import * as v from 'valibot';

/** The checked value, or why not (one line). */
export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

/** Longest rendering of a received value in a message, characters. */
const MAX_SHOWN = 80;

/** A value as a message shows it: JSON, cut to 80 characters; bigints and byte arrays named. */
export function shown(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // JSON would say null
  if (value instanceof Uint8Array) return `binary data (${value.byteLength} bytes)`;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

/** True for `{…}` as JSON makes it (not an array, a Buffer, a Map, a Date, a class instance). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A message that is a whole line of its own (a parser's, which already quotes the text): it is
 * said as is, without field or `, got …`.
 */
const WHOLE = '\u0000whole:';
export const wholeMessage = (message: string): string => `${WHOLE}${message}`;
/**
 * A message that is a sentence about the whole request (a rule across fields, which names its
 * fields itself): said after the context (`profile.start: type wall needs a target…`).
 */
const SENTENCE = '\u0000sentence:';
export const sentenceMessage = (message: string): string => `${SENTENCE}${message}`;
/**
 * A rule across the fields of an object, which names them: `{}` in `template` becomes the
 * object's own label (`offcpu` → `offcpu.minBlockUs (10 µs) must not exceed offcpu.maxBlockUs (5 µs)`).
 */
const ACROSS = '\u0000across:';
export const acrossFieldsMessage = (template: string): string => `${ACROSS}${template}`;

/**
 * A line about a place inside the value that raises it (the first refused item of a big array,
 * checked in place): `HERE` in it becomes the value's own label (`HERE[12].pid …` →
 * `rows[12].pid …`). A control character, so a value shown in the line (JSON-escaped) cannot hold it.
 */
export const HERE = '\u0000here';
const INSIDE = '\u0000inside:';
export const insideMessage = (line: string): string => `${INSIDE}${line}`;

type Issue = v.BaseIssue<unknown>;

/** Message of the issue `unknownKeysFirst` raises (the formatter says `unknown field "name"`). */
const UNKNOWN_FIELD = '\u0000unknown field';

/**
 * A required field that is absent is refused with its own schema's message for `undefined`
 * (`id must be a probe id such as "lat-1", got undefined`), rather than a bare "is required".
 */
function missingSaidByField<T>(entries: v.ObjectEntries) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const input = dataset.value as Record<string, unknown>;
    for (const [key, schema] of Object.entries(entries)) {
      if (Object.hasOwn(input, key)) continue;
      const result = v.safeParse(schema, undefined);
      if (result.success) continue;
      addIssue({ message: result.issues[0].message, path: [{ type: 'object', origin: 'value', input, key, value: undefined }] });
      return;
    }
  });
}

/**
 * Refuses a field not in `allowed` before anything else is judged (a strict object alone would
 * first report a missing field): a stray field is named even when others are missing.
 */
function unknownKeysFirst<T>(allowed: readonly string[], applies: (input: Record<string, unknown>) => boolean = () => true) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const input = dataset.value as Record<string, unknown>;
    if (!applies(input)) return;
    const extra = Object.keys(input).find((key) => !allowed.includes(key));
    if (extra !== undefined) addIssue({ message: UNKNOWN_FIELD, path: [{ type: 'object', origin: 'key', input, key: extra, value: input[extra] }] });
  });
}

function keyOf(item: { key?: unknown }): string {
  return typeof item.key === 'number' ? `[${item.key}]` : String(item.key).slice(0, 64);
}

/**
 * One issue as one line: `<context>: <root>.<path> <message>, got <value>`.
 * - an unknown field: `<root>.<path>: unknown field "name"`;
 * - a missing field: `<root>.<path>.<field> is required`.
 */
export function issueMessage(issue: Issue, options: CheckOptions = {}): string {
  const path = (issue.path ?? []).map((item) => keyOf(item as { key?: unknown }));
  const isObjectKey = (issue.type === 'strict_object' || issue.type === 'object' || issue.message === UNKNOWN_FIELD) && path.length > 0 && (issue.path?.at(-1) as { origin?: string } | undefined)?.origin === 'key';
  const join = (parts: string[]) => parts.reduce((label, part) => (part.startsWith('[') || label === '' ? `${label}${part}` : `${label}.${part}`), '');
  const prefix = options.context ? `${options.context}: ` : '';
  if (isObjectKey && (issue.expected === 'never' || issue.message === UNKNOWN_FIELD)) {
    const parent = join([...(options.root ? [options.root] : []), ...path.slice(0, -1)]);
    return `${prefix}${parent === '' ? '' : `${parent}: `}unknown field ${shown(path.at(-1))}`;
  }
  const label = join([...(options.root ? [options.root] : []), ...path]);
  if (isObjectKey) return `${prefix}${label} is required`;
  if (issue.message.startsWith(WHOLE)) return issue.message.slice(WHOLE.length);
  if (issue.message.startsWith(SENTENCE)) return `${prefix}${issue.message.slice(SENTENCE.length)}`;
  if (issue.message.startsWith(INSIDE)) return `${prefix}${issue.message.slice(INSIDE.length).replaceAll(HERE, label)}`;
  if (issue.message.startsWith(ACROSS)) {
    const template = issue.message.slice(ACROSS.length);
    return `${prefix}${label === '' ? template.replaceAll('{}.', '') : template.replaceAll('{}', label)}`;
  }
  const subject = label === '' ? (options.context ?? 'the value') : `${prefix}${label}`;
  // A check forwarded to a field (v.forward) has the whole object as input: show the field.
  const last = issue.path?.at(-1) as { value?: unknown } | undefined;
  return `${subject} ${issue.message}, got ${shown(last ? last.value : issue.input)}`;
}

export interface CheckOptions {
  /** Said first, with a colon: the message or command (`events:add`, `latency.add`). */
  context?: string;
  /** The name of the value itself, the start of every field path (`view`, `offcpu`). */
  root?: string;
}

/** Checks `input` against `schema`: a fresh typed value, or the first issue as one line. */
export function check<S extends v.GenericSchema>(schema: S, input: unknown, options: CheckOptions = {}): Result<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return { ok: true, value: result.output };
  return { ok: false, error: issueMessage(result.issues[0], options) };
}

/** Like `check`, but throws `new Refusal(message)` (for callers whose refusals are exceptions). */
export function parseOr<S extends v.GenericSchema>(schema: S, input: unknown, Refusal: new (message: string) => Error, options: CheckOptions = {}): v.InferOutput<S> {
  const checked = check(schema, input, options);
  if (!checked.ok) throw new Refusal(checked.error);
  return checked.value;
}

// ---------------------------------------------------------------------------------------
// Building blocks

/** A plain object with exactly these fields (optional ones may be absent). */
export function record<E extends v.ObjectEntries>(entries: E, message = 'must be an object') {
  // The custom check claims the object's own input type, so a sender's payload is typed field by field.
  type Input = v.InferInput<v.StrictObjectSchema<E, undefined>>;
  return v.pipe(v.custom<Input>(isPlainObject, message), unknownKeysFirst<Input>(Object.keys(entries)), missingSaidByField<Input>(entries), v.strictObject(entries));
}

/**
 * A plain object that is one of `options` (strict objects), chosen by the field `key`;
 * `message` says which values `key` may take.
 */
export function variant<const K extends string, const O extends v.VariantOptions<K>>(key: K, options: O, message: string, objectMessage = 'must be an object') {
  const entriesOf = (option: unknown) => (option as { entries: v.ObjectEntries }).entries;
  const fields = [...new Set(options.flatMap((option) => Object.keys(entriesOf(option))))];
  // A wrong `key` is said first (it decides which fields exist); with `key` absent or right, a stray field is.
  const known = (input: Record<string, unknown>) => input[key] === undefined || options.some((option) => v.is(entriesOf(option)[key], input[key]));
  return v.pipe(v.custom<v.InferInput<O[number]>>(isPlainObject, objectMessage), unknownKeysFirst<v.InferInput<O[number]>>(fields, known), v.variant(key, options, message));
}

/** A whole number from `min` to `max`; `unit` is said in the message (`whole number of Hz`). */
export function wholeNumber(min: number, max: number, what = 'a whole number') {
  const message = `must be ${what} from ${min} to ${max}`;
  return v.pipe(v.number(message), v.integer(message), v.minValue(min, message), v.maxValue(max, message));
}

/** One of a fixed list of strings. */
export function oneOf<const T extends string>(values: readonly T[], message = `must be one of ${values.join(', ')}`) {
  return v.picklist(values as T[], message);
}

export const boolean = (message = 'must be true or false') => v.boolean(message);

/** C0 controls and DEL (what a terminal would act on). */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** A string of 1 to `max` characters (UTF-16 units) without control characters. */
export function plainText(max: number) {
  return v.pipe(
    v.string('must be a string'),
    v.minLength(1, 'must not be empty'),
    v.check((text: string) => text.length <= max, (issue) => `is longer than ${max} characters (${(issue.input as string).length})`),
    v.check((text: string) => !CONTROL_CHARACTERS.test(text), 'contains control characters'),
  );
}

/** A probe id as the hub hands them out (`lat-1`, `ev-2`): 1 to 64 of letters, digits, `_` and `-`. */
export const PROBE_ID = /^[\w-]{1,64}$/;

// ---------------------------------------------------------------------------------------
// Big messages: checked in place

/** First index of `items` that `isItem` refuses, or -1. */
export function firstRefused(items: readonly unknown[], isItem: (item: unknown) => boolean): number {
  for (let i = 0; i < items.length; i++) if (!isItem(items[i])) return i;
  return -1;
}

/**
 * Why `schema` refuses `value`, said of `label` (a field path). `accepted` when it does not: a
 * fast predicate and its schema disagree (a bug, said as such rather than hidden).
 */
export function refusalOf(schema: v.GenericSchema, value: unknown, label: string, accepted: string): string {
  const result = v.safeParse(schema, value, { abortEarly: true });
  return result.success ? `${label} ${accepted}, got ${shown(value)}` : issueMessage(result.issues[0], { root: label });
}

/**
 * An array of many items, for messages that flow all the time (thousands of rows): each item
 * is checked in place by `isItem`, a plain predicate that says the same as `item` (one pass, no
 * copy: the array received is the value passed on, items included). The first item it refuses
 * is explained by `item` itself, so the refusal names the field like any other:
 * `rows[12].pid must be a number, got "x"`.
 */
export function checkedInPlace<S extends v.GenericSchema>(item: S, isItem: (value: unknown) => boolean, message = 'must be an array') {
  type Item = v.InferOutput<S>;
  return v.pipe(
    v.custom<Item[]>((value) => Array.isArray(value), message),
    v.rawCheck<Item[]>(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const at = firstRefused(dataset.value, isItem);
      if (at >= 0) addIssue({ message: insideMessage(refusalOf(item, dataset.value[at], `${HERE}[${at}]`, 'is not of the expected shape')) });
    }),
  );
}
