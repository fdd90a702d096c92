/* SPDX-License-Identifier: MIT */
/*
 * probeboard off-CPU profiler: layouts shared by offcpu.bpf.c and server/abi/offcpu.ts.
 * Fixed-width types only; server/abi/offcpu.test.ts checks the TypeScript mirror against the
 * offsets a C compiler gives for this file.
 */
#ifndef PROBEBOARD_OFFCPU_H
#define PROBEBOARD_OFFCPU_H

#define OC_COMM_LEN 16
/* Frames kept per stack (the kernel's default perf_event_max_stack). */
#define OC_MAX_STACK_DEPTH 127
/* Distinct (thread, blocked stack, waker) keys since load: the counts are cumulative. */
#define OC_COUNTS_MAX_ENTRIES 32768
/* Stack trace map entries: stacks of every blocked thread and waker since load. */
#define OC_STACKS_MAX_ENTRIES 32768
/* Threads off-CPU at once (switched out, not yet back), and pending wakeups. */
#define OC_START_MAX_ENTRIES 32768

/* Stack id sentinel: no such half (a kernel thread has no user stack), nothing lost. */
#define OC_STACK_NONE (-2147483647 - 1) /* INT32_MIN */

/* Counts map key: one blocked stack of one thread, with who woke it. 64 bytes, no padding. */
struct oc_key {
	__u32 pid;                   /* tgid of the blocked thread */
	__u32 tid;                   /* its thread id, when key_by_tid; else 0 */
	__s32 user_stack_id;         /* >= 0: id in oc_stacks; OC_STACK_NONE; or -errno */
	__s32 kernel_stack_id;
	__u32 waker_pid;             /* tgid of the waker (with_wakers), else 0 */
	__u32 waker_tid;             /* its thread id (with_wakers and key_by_tid), else 0 */
	__s32 waker_user_stack_id;   /* as above; OC_STACK_NONE without a recorded wakeup */
	__s32 waker_kernel_stack_id;
	char comm[OC_COMM_LEN];      /* blocked thread's command name */
	char waker_comm[OC_COMM_LEN];
};

/* Counts map value: cumulative since load. 16 bytes. */
struct oc_value {
	__u64 blocked_ns;            /* total time off-CPU, ns */
	__u64 count;                 /* blocking events (switch-out to switch-in) */
};

/* Start map value, keyed by thread id: what the switch-out saw. 40 bytes. */
struct oc_start {
	__u64 ts;                    /* bpf_ktime_get_ns() at switch-out */
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	__u32 pid;
	__u32 pad;
	char comm[OC_COMM_LEN];
};

/* Waker map value, keyed by the woken thread id: who woke it, last. 32 bytes. */
struct oc_waker {
	__s32 user_stack_id;
	__s32 kernel_stack_id;
	__u32 pid;
	__u32 tid;
	char comm[OC_COMM_LEN];
};

/* Index into the per-CPU oc_stats array: cumulative counters since load. Every switch-out is
 * exactly one of FILTERED, EXITED, START_FULL or a start; every start ends as RECORDED,
 * BLOCK_FILTERED, COUNTS_FULL, OVERWRITTEN or is still in flight (in oc_starts). */
enum oc_stat {
	OC_STAT_SWITCHES = 0,        /* sched_switch events seen (idle task excluded) */
	OC_STAT_FILTERED = 1,        /* switch-outs of threads outside the target or state filter */
	OC_STAT_START_FULL = 2,      /* switch-outs lost: start map full */
	OC_STAT_RECORDED = 3,        /* blocked intervals added to the counts */
	OC_STAT_BLOCK_FILTERED = 4,  /* blocked intervals outside [min_block_ns, max_block_ns] */
	OC_STAT_COUNTS_FULL = 5,     /* blocked intervals lost: counts map full */
	OC_STAT_USER_STACK_LOST = 6, /* bpf_get_stackid failed for a user stack (any cause) */
	OC_STAT_KERN_STACK_LOST = 7,
	OC_STAT_WAKEUPS = 8,         /* wakeups recorded (with_wakers) */
	OC_STAT_EXITED = 9,          /* last switch-outs of exiting threads (TASK_DEAD): never back */
	OC_STAT_OVERWRITTEN = 10,    /* starts replaced by a later switch-out of the same thread id
	                              * before a switch-in was seen (none expected; counted to know) */
	OC_STAT_MAX = 11,
};

#endif /* PROBEBOARD_OFFCPU_H */
