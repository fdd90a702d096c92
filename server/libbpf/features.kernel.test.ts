/**
 * Feature probes against the running kernel.
 * - Inside pb-vm (PB_VM=1, Debian's 6.1 kernel): every feature, kprobes and fentry included, is available.
 * - Elsewhere: the baseline (privileges, BTF, perf events, tracepoints, uprobes, ring buffer) is
 *   available; kprobes and fentry are either available or NotSupported with a reason that says
 *   why (on this project's 6.18 host: no CONFIG_KPROBES, and fentry loads refused with EPERM).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { FEATURE_NAMES, NotSupported, clearFeatureCache, ensureTracefs, probeFeature, type FeatureName } from './features.ts';
import { kernelTestGate, newFds, openFds } from '../testing/kernel.ts';

const inVm = process.env.PB_VM === '1';
const baseline: FeatureName[] = ['privileges', 'btf', 'perf_events', 'tracepoints', 'uprobes', 'ringbuf'];

function describe(feature: FeatureName): string {
  const result = probeFeature(feature);
  return result.available ? 'available' : result.notSupported.message;
}

test('tracefs is mounted (or gets mounted) when root', (t) => {
  if (!kernelTestGate(t)) return;
  const state = ensureTracefs();
  assert.equal(state.mounted, true, state.mounted ? '' : `${state.reason}; ${state.command}`);
});

test('baseline features are available', (t) => {
  if (!kernelTestGate(t)) return;
  ensureTracefs();
  for (const feature of baseline) assert.equal(describe(feature), 'available', feature);
});

test('kprobes: available, or NotSupported saying why', (t) => {
  if (!kernelTestGate(t)) return;
  const result = probeFeature('kprobes');
  if (inVm) {
    assert.equal(describe('kprobes'), 'available');
    return;
  }
  if (!existsSync('/sys/bus/event_source/devices/kprobe')) {
    assert.equal(result.available, false, 'no kprobe PMU: kprobes cannot be available');
    if (result.available) return;
    assert.ok(result.notSupported instanceof NotSupported, `an unavailable feature says why with a NotSupported (${JSON.stringify(result)})`);
    assert.equal(result.notSupported.feature, 'kprobes');
    assert.match(result.notSupported.reason, /CONFIG_KPROBES/);
  } else if (!result.available) {
    assert.ok(result.notSupported.reason.length > 10, 'a reason is given');
  }
});

test('fentry: available, or NotSupported naming the errno', (t) => {
  if (!kernelTestGate(t)) return;
  const result = probeFeature('fentry');
  if (inVm) {
    assert.equal(describe('fentry'), 'available');
    return;
  }
  if (!result.available) {
    assert.equal(result.notSupported.feature, 'fentry');
    assert.match(result.notSupported.reason, /\((E[A-Z0-9]+)\)/, 'the reason names the errno');
  }
});

test('answers are cached, and probing leaks nothing', (t) => {
  if (!kernelTestGate(t)) return;
  clearFeatureCache();
  const fdsBefore = openFds();
  const first = FEATURE_NAMES.map((feature) => probeFeature(feature));
  assert.deepEqual(newFds(fdsBefore, openFds()), [], 'every probe closed what it opened');
  const second = FEATURE_NAMES.map((feature) => probeFeature(feature));
  first.forEach((result, i) => assert.equal(second[i], result, `${FEATURE_NAMES[i]} cached`));
  process.stderr.write(`features: ${FEATURE_NAMES.map((feature) => `${feature}=${describe(feature)}`).join('\n          ')}\n`);
});
