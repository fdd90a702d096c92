// SPDX-License-Identifier: GPL-2.0
/*
 * probeboard off-CPU profiler: time threads spend switched out, by the stacks they blocked in
 * (and, optionally, the stack of the thread that woke them), aggregated in the kernel.
 *
 * At sched_switch (which runs in the context of the thread leaving the CPU) the leaving thread's
 * stacks and the time go into oc_starts under its thread id; when the thread is switched in
 * again, the time it was away is added to oc_counts under (thread, stacks, waker). Counts and
 * stacks are cumulative since load (user space reads deltas and never clears them), so a thread
 * blocked for minutes keeps a valid stack id.
 *
 * Programs: oc_switch_btf (tp_btf/sched_switch) where the kernel has BTF-typed tracepoints, else
 * oc_switch_raw (raw_tp/sched_switch); with_wakers adds oc_waking_btf / oc_waking_raw on
 * sched_waking. User space turns off (set_autoload(false)) the ones not used.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "offcpu.h"
#include "pb_helpers.h"

#define PF_KTHREAD 0x00200000
#define TASK_RUNNING 0
#define TASK_INTERRUPTIBLE 1
#define TASK_UNINTERRUPTIBLE 2
#define TASK_DEAD 0x80

/* Settings, written by user space before load. */
const volatile __u32 targ_pid = 0;               /* tgid to trace; used when filter_pid */
const volatile bool filter_pid = false;
const volatile char targ_comm[OC_COMM_LEN] = {}; /* comm to trace; used when filter_comm */
const volatile bool filter_comm = false;
/* Which switch-outs count, by the state the thread leaves in: 0 every one (preempted threads
 * wait on the run queue), TASK_INTERRUPTIBLE or TASK_UNINTERRUPTIBLE only that sleep. */
const volatile __u32 targ_state = 0;
const volatile bool filter_state = false;
const volatile __u64 min_block_ns = 1;           /* shorter blocked intervals are not counted */
const volatile __u64 max_block_ns = ~0ULL;       /* nor longer ones */
const volatile bool key_by_tid = true;
const volatile bool with_wakers = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OC_COUNTS_MAX_ENTRIES);
	__type(key, struct oc_key);
	__type(value, struct oc_value);
} oc_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, OC_STACKS_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, OC_MAX_STACK_DEPTH * sizeof(__u64));
} oc_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OC_START_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct oc_start);
} oc_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OC_START_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct oc_waker);
} oc_wakers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OC_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} oc_stats SEC(".maps");

static __always_inline void stat_inc(__u32 index)
{
	pb_percpu_inc(&oc_stats, index);
}

static __always_inline bool comm_matches(const char *comm)
{
	return pb_comm_equal(comm, targ_comm, OC_COMM_LEN);
}

/* The current task's stacks into oc_stacks (the current task: sched_switch and sched_waking
 * run in the context of the thread leaving the CPU, resp. of the waker). */
static __always_inline void current_stacks(void *ctx, struct task_struct *task, __s32 *user, __s32 *kernel)
{
	*user = OC_STACK_NONE;
	if (!(BPF_CORE_READ(task, flags) & PF_KTHREAD) && BPF_CORE_READ(task, mm)) {
		*user = bpf_get_stackid(ctx, &oc_stacks, BPF_F_USER_STACK);
		if (*user < 0)
			stat_inc(OC_STAT_USER_STACK_LOST);
	}
	*kernel = bpf_get_stackid(ctx, &oc_stacks, 0);
	if (*kernel < 0)
		stat_inc(OC_STAT_KERN_STACK_LOST);
}

static __always_inline void switch_out(void *ctx, struct task_struct *prev)
{
	struct oc_start start = {};
	__u32 tid = BPF_CORE_READ(prev, pid);
	unsigned int state = BPF_CORE_READ(prev, __state);

	start.pid = BPF_CORE_READ(prev, tgid);
	if (filter_pid && start.pid != targ_pid)
		goto filtered;
	/* An exiting thread's last switch: it never comes back, and its thread id may be reused
	 * by a new thread whose first switch-in must not find this start. */
	if (state & TASK_DEAD) {
		stat_inc(OC_STAT_EXITED);
		return;
	}
	if (filter_state && (state & 3) != targ_state)
		goto filtered;
	bpf_probe_read_kernel_str(&start.comm, sizeof(start.comm), prev->comm);
	if (filter_comm && !comm_matches(start.comm))
		goto filtered;
	current_stacks(ctx, prev, &start.user_stack_id, &start.kernel_stack_id);
	start.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&oc_starts, &tid, &start, BPF_NOEXIST) == 0)
		return;
	/* a start for this thread id already: its switch-in was never seen */
	if (bpf_map_update_elem(&oc_starts, &tid, &start, BPF_EXIST) == 0)
		stat_inc(OC_STAT_OVERWRITTEN);
	else
		stat_inc(OC_STAT_START_FULL);
	return;
filtered:
	stat_inc(OC_STAT_FILTERED);
}

static __always_inline void switch_in(struct task_struct *next)
{
	__u32 tid = BPF_CORE_READ(next, pid);
	struct oc_start *start = bpf_map_lookup_elem(&oc_starts, &tid);
	struct oc_key key = {};
	struct oc_value *value, zero = {};
	struct oc_waker *waker;
	__u64 delta;

	if (!start)
		return; /* switched out before the probe started, or filtered */
	delta = bpf_ktime_get_ns() - start->ts;
	key.pid = start->pid;
	key.tid = key_by_tid ? tid : 0;
	key.user_stack_id = start->user_stack_id;
	key.kernel_stack_id = start->kernel_stack_id;
	__builtin_memcpy(key.comm, start->comm, OC_COMM_LEN);
	bpf_map_delete_elem(&oc_starts, &tid);
	key.waker_user_stack_id = OC_STACK_NONE;
	key.waker_kernel_stack_id = OC_STACK_NONE;
	if (with_wakers) {
		waker = bpf_map_lookup_elem(&oc_wakers, &tid);
		if (waker) {
			key.waker_pid = waker->pid;
			key.waker_tid = key_by_tid ? waker->tid : 0;
			key.waker_user_stack_id = waker->user_stack_id;
			key.waker_kernel_stack_id = waker->kernel_stack_id;
			__builtin_memcpy(key.waker_comm, waker->comm, OC_COMM_LEN);
			bpf_map_delete_elem(&oc_wakers, &tid);
		}
	}
	if (delta < min_block_ns || delta > max_block_ns) {
		stat_inc(OC_STAT_BLOCK_FILTERED);
		return;
	}
	value = bpf_map_lookup_elem(&oc_counts, &key);
	if (!value) {
		bpf_map_update_elem(&oc_counts, &key, &zero, BPF_NOEXIST);
		value = bpf_map_lookup_elem(&oc_counts, &key);
		if (!value) {
			stat_inc(OC_STAT_COUNTS_FULL);
			return;
		}
	}
	__sync_fetch_and_add(&value->blocked_ns, delta);
	__sync_fetch_and_add(&value->count, 1);
	stat_inc(OC_STAT_RECORDED);
}

static __always_inline int on_switch(void *ctx, struct task_struct *prev, struct task_struct *next)
{
	/* the idle task (pid 0 on every CPU) neither blocks nor is waited for */
	if (BPF_CORE_READ(prev, pid) != 0) {
		stat_inc(OC_STAT_SWITCHES);
		switch_out(ctx, prev);
	}
	if (BPF_CORE_READ(next, pid) != 0)
		switch_in(next);
	return 0;
}

static __always_inline int on_waking(void *ctx, struct task_struct *p)
{
	struct task_struct *current = (struct task_struct *)bpf_get_current_task();
	struct oc_waker waker = {};
	__u32 tid = BPF_CORE_READ(p, pid);

	/* only wakeups of threads we are timing */
	if (!bpf_map_lookup_elem(&oc_starts, &tid))
		return 0;
	waker.pid = BPF_CORE_READ(current, tgid);
	waker.tid = BPF_CORE_READ(current, pid);
	bpf_get_current_comm(&waker.comm, sizeof(waker.comm));
	current_stacks(ctx, current, &waker.user_stack_id, &waker.kernel_stack_id);
	if (bpf_map_update_elem(&oc_wakers, &tid, &waker, BPF_ANY) == 0)
		stat_inc(OC_STAT_WAKEUPS);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(oc_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, prev, next);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(oc_switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(ctx, prev, next);
}

SEC("tp_btf/sched_waking")
int BPF_PROG(oc_waking_btf, struct task_struct *p)
{
	return on_waking(ctx, p);
}

SEC("raw_tp/sched_waking")
int BPF_PROG(oc_waking_raw, struct task_struct *p)
{
	return on_waking(ctx, p);
}

char LICENSE[] SEC("license") = "GPL";
