/**
 * Validation of untrusted `latency:*` payloads (lib/protocol-latency.ts), in lib/validate.ts
 * style: the typed value or a one-line reason naming the field. The spec is parsed with the
 * grammar the collector uses, so a malformed spec is refused with the parser's message before
 * anything touches the kernel. What only the server can know (missing binary, symbol, pid,
 * kernel feature) is checked when the probe is opened.
 */
import { parseProbeSpec, formatProbeSpec } from './probe-spec.ts';
import { MAX_SPEC_LENGTH, type LatencyAddRequest, type LatencyRemoveRequest } from './protocol-latency.ts';
import { checkComm, checkPid, type Checked } from './validate.ts';
import { MAX_SUB_BUCKETS, MIN_SUB_BUCKETS } from './histogram.ts';

const fail = (error: string): { ok: false; error: string } => ({ ok: false, error });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unknownKey(value: Record<string, unknown>, allowed: readonly string[]): string | null {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  return extra === undefined ? null : `unknown field ${JSON.stringify(extra.slice(0, 64))}`;
}

/** A `latency:add` request; `spec` comes back in canonical form. */
export function checkLatencyAdd(input: unknown): Checked<LatencyAddRequest> {
  if (!isRecord(input)) return fail('latency:add needs an object {spec, pid?, comm?, subBuckets?}');
  const extra = unknownKey(input, ['spec', 'pid', 'comm', 'subBuckets']);
  if (extra) return fail(`latency:add: ${extra}`);
  if (typeof input.spec !== 'string' || input.spec.trim() === '') return fail('spec must be a non-empty string, e.g. uprobe:c:malloc');
  if (input.spec.length > MAX_SPEC_LENGTH) return fail(`spec is longer than ${MAX_SPEC_LENGTH} characters`);
  const text = input.spec.trim();
  const parsed = parseProbeSpec(text);
  if (!parsed.ok) return fail(`bad probe spec "${text}": ${parsed.error.message} (at character ${parsed.error.position + 1})`);
  const value: LatencyAddRequest = { spec: formatProbeSpec(parsed.spec) };
  if (input.pid !== undefined && input.pid !== null) {
    const pid = checkPid(input.pid);
    if (!pid.ok) return pid;
    value.pid = pid.value;
  }
  if (input.comm !== undefined && input.comm !== null && input.comm !== '') {
    const comm = checkComm(input.comm);
    if (!comm.ok) return comm;
    value.comm = comm.value;
  }
  if (input.subBuckets !== undefined && input.subBuckets !== null) {
    const sub = checkSubBuckets(input.subBuckets);
    if (!sub.ok) return sub;
    value.subBuckets = sub.value;
  }
  return { ok: true, value };
}

/** Linear parts per log2 bucket: a whole number 1..16. */
export function checkSubBuckets(input: unknown): Checked<number> {
  if (typeof input !== 'number' || !Number.isInteger(input) || input < MIN_SUB_BUCKETS || input > MAX_SUB_BUCKETS) {
    return fail(`sub-buckets must be a whole number from ${MIN_SUB_BUCKETS} to ${MAX_SUB_BUCKETS}, got ${JSON.stringify(input)?.slice(0, 40)}`);
  }
  return { ok: true, value: input };
}

/** A `latency:remove` request. */
export function checkLatencyRemove(input: unknown): Checked<LatencyRemoveRequest> {
  if (!isRecord(input)) return fail('latency:remove needs an object {id}');
  const extra = unknownKey(input, ['id']);
  if (extra) return fail(`latency:remove: ${extra}`);
  if (typeof input.id !== 'string' || !/^[\w-]{1,64}$/.test(input.id)) return fail(`latency:remove: id must be a probe id such as "lat-1", got ${JSON.stringify(input.id)?.slice(0, 80)}`);
  return { ok: true, value: { id: input.id } };
}
