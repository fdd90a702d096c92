import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foldedFromIntervals, foldedFromSamples, foldedFromTree, parseFolded } from './folded.ts';
import { interval, sample } from './testing.ts';

const samples = [
  sample('bash', 100, 'main;execute_command', 'entry_SYSCALL_64;do_syscall_64;ksys_write', 3),
  sample('bash', 101, 'main;execute_command', 'entry_SYSCALL_64;do_syscall_64;ksys_write', 2), // other pid, same comm: merged
  sample('bash', 100, 'main;readline', '', 4),
  sample('node', 200, 'main;LazyCompile:*fib_[j]', '', 6),
  sample('kworker/0:1', 7, '', 'ret_from_fork;worker_thread', 5),
  sample('swapper/0', 0, '', 'secondary_startup_64;cpu_idle', 50),
  sample('cc1', 300, '', 'asm_exc_page_fault;handle_mm_fault', 2, { user: 'collision' }),
  sample('cc1', 300, 'main;parse', '', 1, { kernel: 'fault' }),
  sample('cc1', 300, '', '', 1, { user: 'other', kernel: 'other' }),
];

test('all frames, bcc profile -f -a style', () => {
  assert.equal(
    foldedFromSamples(samples),
    `bash;main;execute_command;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_write_[k] 5
bash;main;readline 4
cc1;[lost stack: collision];asm_exc_page_fault_[k];handle_mm_fault_[k] 2
cc1;[lost stack: other];[lost stack: other] 1
cc1;main;parse;[lost stack: fault] 1
kworker/0:1;ret_from_fork_[k];worker_thread_[k] 5
node;main;LazyCompile:*fib 6
swapper/0;secondary_startup_64_[k];cpu_idle_[k] 50
`,
  );
});

test('user only, hide idle', () => {
  assert.equal(
    foldedFromSamples(samples, { stackMode: 'user', hideIdle: true }),
    `bash;main;execute_command 5
bash;main;readline 4
cc1;[lost stack: collision] 2
cc1;[lost stack: other] 1
cc1;main;parse 1
kworker/0:1 5
node;main;LazyCompile:*fib 6
`,
  );
});

test('kernel only', () => {
  assert.equal(
    foldedFromSamples(samples, { stackMode: 'kernel', hideIdle: false }),
    `bash 4
bash;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_write_[k] 5
cc1;[lost stack: fault] 1
cc1;[lost stack: other] 1
cc1;asm_exc_page_fault_[k];handle_mm_fault_[k] 2
kworker/0:1;ret_from_fork_[k];worker_thread_[k] 5
node 6
swapper/0;secondary_startup_64_[k];cpu_idle_[k] 50
`,
  );
});

test('JIT frames can carry _[j] on request', () => {
  const annotated = foldedFromSamples(samples, undefined, { annotateJit: true });
  assert.ok(annotated.includes('node;main;LazyCompile:*fib_[j] 6\n'), `JIT frames annotated _[j]:\n${annotated}`);
});

test('folded from samples -> tree -> folded is identical, in every mode', () => {
  for (const stackMode of ['all', 'user', 'kernel'] as const) {
    for (const hideIdle of [false, true]) {
      const text = foldedFromSamples(samples, { stackMode, hideIdle });
      assert.equal(foldedFromTree(parseFolded(text)), text, `${stackMode} ${hideIdle}`);
    }
  }
});

test('intervals are merged', () => {
  const text = foldedFromIntervals([interval(1000, [samples[0]]), interval(2000, [samples[0], samples[2]])]);
  assert.equal(text, 'bash;main;execute_command;entry_SYSCALL_64_[k];do_syscall_64_[k];ksys_write_[k] 6\nbash;main;readline 4\n');
});

test('no samples -> empty text', () => {
  assert.equal(foldedFromSamples([]), '');
  assert.equal(foldedFromTree(parseFolded('')), '');
});
