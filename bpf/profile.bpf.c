// SPDX-License-Identifier: GPL-2.0
/*
 * probeboard CPU profiler: a perf_event program run at a fixed frequency on every CPU.
 * Counts (pid, tid, comm, user stack id, kernel stack id) in the kernel; user space flips
 * pb_control.active_buffer once per interval and reads + clears the inactive buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "profile.h"
#include "pb_helpers.h"

#define EEXIST 17
#define EFAULT 14
#define PF_KTHREAD 0x00200000

/* Settings, written by user space before load. */
const volatile __u32 targ_pid = 0;          /* tgid to sample; used when filter_pid */
const volatile bool filter_pid = false;
const volatile char targ_comm[PB_COMM_LEN] = {}; /* thread comm to sample; used when filter_comm */
const volatile bool filter_comm = false;
/* Count each thread apart (key.tid = thread id); else key.tid = 0 and threads of one name merge. */
const volatile bool key_by_tid = false;

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PB_COUNTS_MAX_ENTRIES);
	__type(key, struct pb_stack_key);
	__type(value, __u64);
};

struct stacks_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, PB_STACKS_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PB_MAX_STACK_DEPTH * sizeof(__u64));
};

/* Double buffer: buffer N is pb_countsN + pb_stacksN. */
struct counts_map pb_counts0 SEC(".maps");
struct counts_map pb_counts1 SEC(".maps");
struct stacks_map pb_stacks0 SEC(".maps");
struct stacks_map pb_stacks1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pb_control);
} pb_control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PB_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pb_stats SEC(".maps");

static __always_inline void stat_inc(__u32 index)
{
	pb_percpu_inc(&pb_stats, index);
}

/* Count a failed bpf_get_stackid by cause; base is PB_STAT_USER_EEXIST or PB_STAT_KERN_EEXIST. */
static __always_inline void count_stack_error(__s32 id, __u32 base)
{
	if (id == -EEXIST)
		stat_inc(base);
	else if (id == -EFAULT)
		stat_inc(base + 1);
	else
		stat_inc(base + 2);
}

static __always_inline bool comm_matches(const char *comm)
{
	return pb_comm_equal(comm, targ_comm, PB_COMM_LEN);
}

/* Record one sample into one buffer. */
static __always_inline int record(struct bpf_perf_event_data *ctx, struct pb_stack_key *key,
				  bool has_user, bool has_kernel, void *counts, void *stacks)
{
	static const __u64 zero;
	__u64 *count;

	/* 1. Stack ids: an absent half gets PB_STACK_NONE, a lost one its -errno. */
	key->user_stack_id = PB_STACK_NONE;
	if (has_user) {
		key->user_stack_id = bpf_get_stackid(ctx, stacks, BPF_F_USER_STACK);
		if (key->user_stack_id < 0)
			count_stack_error(key->user_stack_id, PB_STAT_USER_EEXIST);
	}
	key->kernel_stack_id = PB_STACK_NONE;
	if (has_kernel) {
		key->kernel_stack_id = bpf_get_stackid(ctx, stacks, 0);
		if (key->kernel_stack_id < 0)
			count_stack_error(key->kernel_stack_id, PB_STAT_KERN_EEXIST);
	}

	/* 2. Count it; insert a zero first if the key is new. */
	count = bpf_map_lookup_elem(counts, key);
	if (!count) {
		bpf_map_update_elem(counts, key, &zero, BPF_NOEXIST);
		count = bpf_map_lookup_elem(counts, key);
		if (!count) {
			stat_inc(PB_STAT_DROPPED);
			return 0;
		}
	}
	__sync_fetch_and_add(count, 1);
	return 0;
}

SEC("perf_event")
int pb_profile(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct task_struct *task;
	struct pb_stack_key key = {};
	struct pb_control *control;
	bool has_user, has_kernel;
	__u32 zero = 0;

	/* 1. Target filter. */
	key.pid = id >> 32;
	if (filter_pid && key.pid != targ_pid)
		return 0;
	if (key_by_tid)
		key.tid = (__u32)id;
	bpf_get_current_comm(&key.comm, sizeof(key.comm));
	if (filter_comm && !comm_matches(key.comm))
		return 0;
	stat_inc(PB_STAT_SAMPLES);

	/* 2. Which halves exist: kernel threads (and exiting tasks) have no user memory;
	 *    a sample taken in user mode (x86_64: ip in the lower half) has no kernel stack. */
	task = (struct task_struct *)bpf_get_current_task();
	has_user = !(BPF_CORE_READ(task, flags) & PF_KTHREAD) && BPF_CORE_READ(task, mm) != NULL;
	has_kernel = (long)ctx->regs.ip < 0;

	/* 3. Into the active buffer. */
	control = bpf_map_lookup_elem(&pb_control, &zero);
	if (control && control->active_buffer == 1)
		return record(ctx, &key, has_user, has_kernel, &pb_counts1, &pb_stacks1);
	return record(ctx, &key, has_user, has_kernel, &pb_counts0, &pb_stacks0);
}

char LICENSE[] SEC("license") = "GPL";
