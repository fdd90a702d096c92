'use client';
/**
 * The spec field of "add a latency probe": validated as you type with the same parser the
 * server uses (lib/probe-spec.ts); the error shows next to the field, and the server's own
 * refusal (missing binary, symbol, kernel feature…) is shown the same way. The sub-bucket
 * count (1–16) is checked as the server checks it, and its error shows next to its field.
 */
import { useState, type FormEvent } from 'react';
import { exampleFor, parseProbeSpec, PROBE_KINDS } from '../../lib/probe-spec.ts';
import { DEFAULT_SUB_BUCKETS, MAX_SUB_BUCKETS, MIN_SUB_BUCKETS } from '../../lib/histogram.ts';
import { check } from '../../lib/schema/core.ts';
import { SubBucketsSchema } from '../../lib/schema/latency.ts';
import { buttonClass, Field, inputClass } from '../controls/Field.tsx';
import { LATENCY_TEST_IDS } from '../../lib/test-ids.ts';

export function ProbeSpecInput({
  onAdd,
  serverError,
  disabled,
}: {
  /** Called with the spec text once it parses; resolves to the server's refusal, or null when added. */
  onAdd: (spec: string, filters: { pid?: number; comm?: string; subBuckets?: number }) => Promise<string | null>;
  /** An error from the server for the last attempt, shown under the field. */
  serverError?: string | null;
  disabled?: boolean;
}) {
  const [text, setText] = useState('');
  const [pid, setPid] = useState('');
  const [comm, setComm] = useState('');
  const [subBuckets, setSubBuckets] = useState(String(DEFAULT_SUB_BUCKETS));
  const [touched, setTouched] = useState(false);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const parsed = text.trim() === '' ? null : parseProbeSpec(text);
  const pidError = pid !== '' && !/^[1-9]\d*$/.test(pid) ? 'pid must be a positive whole number' : null;
  const commError = new TextEncoder().encode(comm).length > 15 ? 'command name: at most 15 bytes (the kernel keeps no more)' : null;
  const specError = parsed && !parsed.ok ? `${parsed.error.message} (at character ${parsed.error.position + 1})` : null;
  const subChecked = check(SubBucketsSchema, /^\d+$/.test(subBuckets.trim()) ? Number(subBuckets.trim()) : subBuckets);
  const subError = subChecked.ok ? null : `sub-buckets must be a whole number from ${MIN_SUB_BUCKETS} to ${MAX_SUB_BUCKETS}`;
  const error = (touched ? specError : null) ?? pidError ?? commError ?? refusal ?? serverError ?? null;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setTouched(true);
    if (!parsed || !parsed.ok || pidError || commError || !subChecked.ok) {
      if (!parsed) setRefusal('type a probe spec first');
      return;
    }
    setBusy(true);
    try {
      const reply = await onAdd(text.trim(), {
        ...(pid && { pid: Number(pid) }),
        ...(comm && { comm }),
        ...(subChecked.value !== DEFAULT_SUB_BUCKETS && { subBuckets: subChecked.value }),
      });
      setRefusal(reply);
      if (reply === null) {
        setText('');
        setTouched(false);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <form noValidate onSubmit={submit} className="flex flex-wrap items-end gap-2">
      <div className="min-w-[22rem] flex-1">
        <Field
          label="Latency probe"
          htmlFor="latency-spec"
          error={error}
          errorTestId={LATENCY_TEST_IDS.specError}
          hint={`e.g. ${PROBE_KINDS.map(exampleFor).slice(0, 4).join(' · ')}`}
        >
          <input
            id="latency-spec"
            data-testid={LATENCY_TEST_IDS.specInput}
            className={inputClass + ' font-mono'}
            placeholder="uprobe:c:malloc"
            value={text}
            aria-invalid={error ? true : undefined}
            onChange={(e) => {
              setText(e.target.value);
              setRefusal(null);
              if (e.target.value.includes(':') || e.target.value.length > 6) setTouched(true);
            }}
            onBlur={() => setTouched(text.trim() !== '')}
            disabled={disabled}
          />
        </Field>
      </div>
      <div className="w-28">
        <Field label="pid (optional)" htmlFor="latency-pid">
          <input id="latency-pid" data-testid={LATENCY_TEST_IDS.pidInput} className={inputClass} value={pid} onChange={(e) => setPid(e.target.value)} disabled={disabled} inputMode="numeric" />
        </Field>
      </div>
      <div className="w-32">
        <Field label="comm (optional)" htmlFor="latency-comm">
          <input id="latency-comm" data-testid={LATENCY_TEST_IDS.commInput} className={inputClass} value={comm} onChange={(e) => setComm(e.target.value)} disabled={disabled} maxLength={15} />
        </Field>
      </div>
      <div className="w-36">
        <Field label="sub-buckets (1–16)" htmlFor="latency-sub-buckets" error={subError} hint={subError ? undefined : `p50/p99 within ${subChecked.ok ? Number((100 / subChecked.value).toPrecision(3)) : '?'}%`}>
          <input
            id="latency-sub-buckets"
            data-testid={LATENCY_TEST_IDS.subBucketsInput}
            className={inputClass}
            value={subBuckets}
            aria-invalid={subError ? true : undefined}
            onChange={(e) => setSubBuckets(e.target.value)}
            disabled={disabled}
            inputMode="numeric"
          />
        </Field>
      </div>
      <button type="submit" data-testid={LATENCY_TEST_IDS.specAdd} className={buttonClass} disabled={disabled || busy}>
        {busy ? 'Adding…' : 'Add probe'}
      </button>
    </form>
  );
}
