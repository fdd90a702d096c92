/**
 * The 3.11 table against the installed CPython headers: a C program prints `offsetof` (and the
 * bitfield masks of the unicode state word) for every field of the table; both must agree.
 * Needs gcc and python3.11-dev (`/usr/include/python3.11`); skipped, saying so, without them.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { offsetsFor, supportedVersions, type CPythonOffsets } from './offsets.ts';
import { skipOutsideCI } from '../testing/skip.ts';

const INCLUDE_3_11 = '/usr/include/python3.11';

/** Every table field, as the C expression that computes it from the headers. */
const C_EXPRESSIONS: { [G in keyof CPythonOffsets]: { [F in keyof CPythonOffsets[G]]: string } } = {
  runtime: {
    interpretersHead: 'offsetof(_PyRuntimeState, interpreters.head)',
    autoTssKey: 'offsetof(_PyRuntimeState, gilstate.autoTSSkey)',
  },
  tss: { key: 'offsetof(Py_tss_t, _key)' },
  interpreter: { next: 'offsetof(PyInterpreterState, next)', threadsHead: 'offsetof(PyInterpreterState, threads.head)' },
  threadState: {
    next: 'offsetof(PyThreadState, next)',
    interp: 'offsetof(PyThreadState, interp)',
    cframe: 'offsetof(PyThreadState, cframe)',
    threadId: 'offsetof(PyThreadState, thread_id)',
    nativeThreadId: 'offsetof(PyThreadState, native_thread_id)',
  },
  cframe: { currentFrame: 'offsetof(_PyCFrame, current_frame)' },
  interpreterFrame: {
    code: 'offsetof(_PyInterpreterFrame, f_code)',
    previous: 'offsetof(_PyInterpreterFrame, previous)',
    prevInstr: 'offsetof(_PyInterpreterFrame, prev_instr)',
    owner: 'offsetof(_PyInterpreterFrame, owner)',
  },
  code: {
    type: 'offsetof(PyCodeObject, ob_base.ob_base.ob_type)',
    size: 'offsetof(PyCodeObject, ob_base.ob_size)',
    firstLineNo: 'offsetof(PyCodeObject, co_firstlineno)',
    filename: 'offsetof(PyCodeObject, co_filename)',
    name: 'offsetof(PyCodeObject, co_name)',
    qualname: 'offsetof(PyCodeObject, co_qualname)',
    lineTable: 'offsetof(PyCodeObject, co_linetable)',
    codeAdaptive: 'offsetof(PyCodeObject, co_code_adaptive)',
  },
  unicode: {
    length: 'offsetof(PyASCIIObject, length)',
    state: 'offsetof(PyASCIIObject, state)',
    // The bitfield masks: set one field to all ones in a zeroed object, read the state word.
    kindMask: 'stateMask(1)',
    kindShift: '__builtin_ctz(stateMask(1))',
    compactMask: 'stateMask(2)',
    asciiMask: 'stateMask(3)',
    asciiData: 'sizeof(PyASCIIObject)',
    compactData: 'sizeof(PyCompactUnicodeObject)',
  },
  bytes: { size: 'offsetof(PyBytesObject, ob_base.ob_size)', data: 'offsetof(PyBytesObject, ob_sval)' },
};

function cProgram(): string {
  const lines: string[] = [];
  for (const [group, fields] of Object.entries(C_EXPRESSIONS)) {
    for (const [field, expr] of Object.entries(fields)) lines.push(`  printf("${group}.${field} %lu\\n", (unsigned long)(${expr}));`);
  }
  return `#include <Python.h>
#include <internal/pycore_runtime.h>
#include <internal/pycore_interp.h>
#include <internal/pycore_frame.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
/* The state word with only field 1 (kind), 2 (compact) or 3 (ascii) set to all ones. */
static unsigned int stateMask(int field) {
  PyASCIIObject o;
  unsigned int word;
  memset(&o, 0, sizeof o);
  if (field == 1) o.state.kind = 7;
  if (field == 2) o.state.compact = 1;
  if (field == 3) o.state.ascii = 1;
  memcpy(&word, (char *)&o + offsetof(PyASCIIObject, state), sizeof word);
  return word;
}
int main(void) {
${lines.join('\n')}
  return 0;
}
`;
}

test('the CPython 3.11 table matches the python3.11-dev headers', (t) => {
  if (!existsSync(join(INCLUDE_3_11, 'internal', 'pycore_frame.h'))) {
    skipOutsideCI(t, `${INCLUDE_3_11}/internal not installed (apt-get install python3.11-dev)`);
    return;
  }
  const table = offsetsFor({ major: 3, minor: 11 });
  assert.ok(table, `no 3.11 table; supported: ${supportedVersions().join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'pb-pyoffsets-'));
  try {
    writeFileSync(join(dir, 'layout.c'), cProgram());
    execFileSync('gcc', ['-Wall', '-Werror', '-DPy_BUILD_CORE', `-I${INCLUDE_3_11}`, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const fromHeaders = new Map(
      execFileSync(join(dir, 'layout'), { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((line) => {
          const [key, value] = line.split(' ');
          return [key, Number(value)] as const;
        }),
    );
    const fromTable = new Map<string, number>();
    for (const [group, fields] of Object.entries(table)) {
      for (const [field, value] of Object.entries(fields as Record<string, number>)) fromTable.set(`${group}.${field}`, value);
    }
    // Same keys: a table field without a C expression (or the reverse) fails here.
    assert.deepEqual([...fromTable.keys()].sort(), [...fromHeaders.keys()].sort(), 'fields of the table vs fields checked against the headers');
    const differing = [...fromTable].filter(([key, value]) => fromHeaders.get(key) !== value).map(([key, value]) => `${key}: table ${value}, headers ${fromHeaders.get(key)}`);
    assert.deepEqual(differing, [], `offsets differing from the headers:\n${differing.join('\n')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('versions without a table get none, never a neighbour', () => {
  for (const minor of [10, 12, 13]) {
    const table = offsetsFor({ major: 3, minor });
    assert.equal(table, undefined, `3.${minor} got a table: ${JSON.stringify(table)}`);
  }
  assert.deepEqual(supportedVersions(), ['3.11']);
});
