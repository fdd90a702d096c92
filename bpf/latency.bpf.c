// SPDX-License-Identifier: GPL-2.0
/*
 * probeboard latency histograms: time from an entry event to its return/end event,
 * per thread (or per request for block, per woken task for runq), counted into log-linear
 * histograms in the kernel (log2 slots split into sub_buckets linear parts; see latency.h),
 * with each key's count, sum, minimum and maximum. One object is loaded per probe; user space turns off
 * (bpf_program__set_autoload(false)) every program the probe does not use, so the
 * object loads on kernels without kprobes or fentry.
 *
 * Programs, by probe kind:
 *   uprobe   lat_uprobe_entry / lat_uprobe_return  (attached at runtime, cookie = probe index)
 *   usdt     lat_usdt_start / lat_usdt_end         (libbpf USDT, cookie = probe index)
 *   syscall  lat_sys_enter / lat_sys_exit          (raw_syscalls tracepoints, targ_syscalls)
 *   block    lat_block_issue / lat_block_complete  (raw tracepoints, keyed by request pointer)
 *   runq     lat_sched_wakeup(_new) / lat_sched_switch (raw tracepoints, keyed by tid)
 *   kprobe   lat_kprobe_entry / lat_kprobe_return  (attached at runtime)
 *   kfunc    lat_fentry / lat_fexit                (attach target set before load)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "latency.h"
#include "pb_helpers.h"

#define TASK_RUNNING 0

/* Settings, written by user space before load. */
const volatile __u32 targ_pid = 0;                 /* tgid to trace; used when filter_pid */
const volatile bool filter_pid = false;
const volatile char targ_comm[LAT_COMM_LEN] = {}; /* comm to trace; used when filter_comm */
const volatile bool filter_comm = false;
const volatile bool key_by_pid = false;
const volatile bool key_by_comm = false;
/* Syscall probes: when filter_syscall, only the syscall numbers whose bit is set here. */
const volatile bool filter_syscall = false;
const volatile __u64 targ_syscalls[LAT_SYSCALL_SLOTS / 64] = {};
/* Syscall probes: count every syscall the wanted tasks enter, by number, into lat_sys_counts
 * (user space uses it to say which neighbouring syscall a program called instead). */
const volatile bool count_syscalls = false;
/* Linear parts per log2 slot, 1..LAT_SUB_MAX (user space checks the range). */
const volatile __u32 sub_buckets = 8;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LAT_START_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, struct lat_start);
} lat_starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LAT_BUCKET_MAX_ENTRIES);
	__type(key, struct lat_bucket_key);
	__type(value, __u64);
} lat_buckets SEC(".maps");

/* Per CPU: syscalls entered by wanted tasks, by number (only when count_syscalls). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAT_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lat_sys_counts SEC(".maps");

/* Nesting depth per (probe, thread) for function probes: recursion and nested USDT pairs
 * (Python's function__entry/return) each get their own entry timestamp. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LAT_START_MAX_ENTRIES);
	__type(key, __u64);
	__type(value, __u32);
} lat_depth SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LAT_HIST_MAX_ENTRIES);
	__type(key, struct lat_hist_key);
	__type(value, struct lat_hist);
} lat_hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAT_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lat_stats SEC(".maps");

/* Zero value to insert new histograms (too big for the BPF stack). */
static struct lat_hist zero_hist;

static __always_inline void stat_inc(__u32 index)
{
	pb_percpu_inc(&lat_stats, index);
}

static __always_inline bool comm_matches(const char *comm)
{
	return pb_comm_equal(comm, targ_comm, LAT_COMM_LEN);
}

static __always_inline bool wanted(__u32 tgid, const char *comm)
{
	if (filter_pid && tgid != targ_pid)
		return false;
	if (filter_comm && !comm_matches(comm))
		return false;
	return true;
}

/* Slot of a duration: 0 for 0, else its bit length, capped at LAT_SLOTS - 1. */
static __always_inline __u32 slot_of(__u64 v)
{
	__u32 slot;

	if (v == 0)
		return 0;
	slot = pb_log2_64(v) + 1;
	return slot < LAT_SLOTS ? slot : LAT_SLOTS - 1;
}

/* Bucket number of a duration (see LAT_SUB_MAX in latency.h). */
static __always_inline __u32 bucket_of(__u64 v)
{
	__u32 slot = slot_of(v), sub = 0, shift, parts = sub_buckets;

	if (slot >= 1 && slot <= LAT_SUB_LAST_SLOT && parts > 1) {
		shift = slot - 1;
		/* (v - 2^shift) < 2^shift <= 2^58 and parts <= 16: the product fits in 64 bits */
		sub = ((v - (1ULL << shift)) * parts) >> shift;
		if (sub >= LAT_SUB_MAX)
			sub = LAT_SUB_MAX - 1; /* unreachable while parts <= LAT_SUB_MAX */
	}
	return slot << LAT_SUB_SHIFT | sub;
}

/* *ptr = max(*ptr, v), atomically. A few compare-and-swap rounds: each failed round means
 * another CPU raised the value meanwhile, so losing after 8 rounds needs 8 concurrent raises. */
static __always_inline void atomic_max(__u64 *ptr, __u64 v)
{
	for (int i = 0; i < 8; i++) {
		__u64 old = *ptr;

		if (old >= v || __sync_val_compare_and_swap(ptr, old, v) == old)
			return;
	}
}

/* Remember an entry of the current task (or of the task described by pid/comm). */
static __always_inline void start_with(__u64 key, __u32 pid, __u32 id, const char *comm)
{
	struct lat_start start = {};

	start.ts = bpf_ktime_get_ns();
	start.pid = pid;
	start.id = id;
	__builtin_memcpy(start.comm, comm, LAT_COMM_LEN);
	if (bpf_map_update_elem(&lat_starts, &key, &start, BPF_ANY) != 0)
		stat_inc(LAT_STAT_START_FULL);
}

static __always_inline int start_current(__u64 key, __u32 id)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	char comm[LAT_COMM_LEN] = {};

	/* comm only when filtering or keying on it (a constant after load: dead code otherwise) */
	if (filter_comm || key_by_comm)
		bpf_get_current_comm(&comm, sizeof(comm));
	if (!wanted(tgid, comm))
		return 0;
	start_with(key, tgid, id, comm);
	return 0;
}

/* Close an entry: duration into the histogram of (probe, pid, comm, id). */
static __always_inline int finish(__u64 key, __u32 probe, bool count_missing)
{
	struct lat_start *start;
	struct lat_bucket_key bkey = {};
	struct lat_hist_key *hkey = &bkey.hist;
	struct lat_hist *hist;
	__u64 now = bpf_ktime_get_ns(), delta, one = 1, *bucket;

	/* 1. Find and remove the entry. */
	start = bpf_map_lookup_elem(&lat_starts, &key);
	if (!start) {
		if (count_missing)
			stat_inc(LAT_STAT_NO_ENTRY);
		return 0;
	}
	delta = now > start->ts ? now - start->ts : 0;
	hkey->probe = probe;
	hkey->id = start->id;
	if (key_by_pid)
		hkey->pid = start->pid;
	if (key_by_comm)
		__builtin_memcpy(hkey->comm, start->comm, LAT_COMM_LEN);
	bpf_map_delete_elem(&lat_starts, &key);

	/* 2. Count, sum and bounds of the key, inserted zeroed when new. */
	hist = bpf_map_lookup_elem(&lat_hists, hkey);
	if (!hist) {
		bpf_map_update_elem(&lat_hists, hkey, &zero_hist, BPF_NOEXIST);
		hist = bpf_map_lookup_elem(&lat_hists, hkey);
		if (!hist) {
			stat_inc(LAT_STAT_HIST_FULL);
			return 0;
		}
	}
	__sync_fetch_and_add(&hist->count, 1);
	__sync_fetch_and_add(&hist->sum, delta);
	atomic_max(&hist->min_inverted, ~delta);
	atomic_max(&hist->max, delta);

	/* 3. Its bucket: counted in place, or inserted with 1 (a racing insert of the same bucket
	 *    makes ours fail with EEXIST, and we add to the winner's). */
	bkey.bucket = bucket_of(delta);
	bucket = bpf_map_lookup_elem(&lat_buckets, &bkey);
	if (bucket) {
		__sync_fetch_and_add(bucket, 1);
		return 0;
	}
	if (bpf_map_update_elem(&lat_buckets, &bkey, &one, BPF_NOEXIST) == 0)
		return 0;
	bucket = bpf_map_lookup_elem(&lat_buckets, &bkey);
	if (bucket)
		__sync_fetch_and_add(bucket, 1);
	else
		stat_inc(LAT_STAT_HIST_FULL);
	return 0;
}

/* Returns are filtered like entries so filtered-out threads are not counted as misses. */
static __always_inline int finish_current(__u64 key, __u32 probe)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	char comm[LAT_COMM_LEN] = {};

	if (filter_comm)
		bpf_get_current_comm(&comm, sizeof(comm));
	if (!wanted(tgid, comm))
		return 0;
	return finish(key, probe, true);
}

/* Key of a thread in one probe: probe index in bits 32..47, thread id in the low half. */
static __always_inline __u64 thread_key(__u32 probe)
{
	return ((__u64)(probe & 0xffff) << 32) | (__u32)bpf_get_current_pid_tgid();
}

/* Entry of a function that may nest (recursion, nested USDT pairs): the start key also
 * holds the depth (bits 48..63), and the thread's depth goes up by one. */
static __always_inline int enter_nested(__u32 probe)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	char comm[LAT_COMM_LEN] = {};
	__u64 tk = thread_key(probe);
	__u32 depth = 0, next;
	__u32 *d;

	if (filter_comm || key_by_comm)
		bpf_get_current_comm(&comm, sizeof(comm));
	if (!wanted(tgid, comm))
		return 0;
	d = bpf_map_lookup_elem(&lat_depth, &tk);
	if (d)
		depth = *d;
	next = depth + 1;
	if (bpf_map_update_elem(&lat_depth, &tk, &next, BPF_ANY) != 0) {
		stat_inc(LAT_STAT_START_FULL);
		return 0;
	}
	start_with(tk | ((__u64)(depth & 0xffff) << 48), tgid, 0, comm);
	return 0;
}

/* Return of a nesting function: closes the entry at the thread's current depth. */
static __always_inline int leave_nested(__u32 probe)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	char comm[LAT_COMM_LEN] = {};
	__u64 tk = thread_key(probe);
	__u32 depth;
	__u32 *d;

	if (filter_comm)
		bpf_get_current_comm(&comm, sizeof(comm));
	if (!wanted(tgid, comm))
		return 0;
	d = bpf_map_lookup_elem(&lat_depth, &tk);
	if (!d || *d == 0) {
		stat_inc(LAT_STAT_NO_ENTRY);
		return 0;
	}
	depth = *d - 1;
	if (depth == 0)
		bpf_map_delete_elem(&lat_depth, &tk);
	else
		*d = depth;
	return finish(tk | ((__u64)(depth & 0xffff) << 48), probe, true);
}

/* ---- uprobe / uretprobe ---- */

SEC("uprobe")
int BPF_KPROBE(lat_uprobe_entry)
{
	return enter_nested(bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(lat_uprobe_return)
{
	return leave_nested(bpf_get_attach_cookie(ctx));
}

/* ---- USDT pair ---- */

SEC("usdt")
int BPF_USDT(lat_usdt_start)
{
	return enter_nested(bpf_usdt_cookie(ctx));
}

SEC("usdt")
int BPF_USDT(lat_usdt_end)
{
	return leave_nested(bpf_usdt_cookie(ctx));
}

/* ---- kprobe / kretprobe ---- */

SEC("kprobe")
int BPF_KPROBE(lat_kprobe_entry)
{
	return enter_nested(0);
}

SEC("kretprobe")
int BPF_KRETPROBE(lat_kprobe_return)
{
	return leave_nested(0);
}

/* ---- fentry / fexit (target set by user space before load) ---- */

SEC("fentry")
int BPF_PROG(lat_fentry)
{
	return enter_nested(0);
}

SEC("fexit")
int BPF_PROG(lat_fexit)
{
	return leave_nested(0);
}

/* ---- system calls ---- */

/* Whether syscall nr is one this probe measures. */
static __always_inline bool syscall_selected(__s64 nr)
{
	__u32 word;

	if (!filter_syscall)
		return true;
	if (nr < 0 || nr >= LAT_SYSCALL_SLOTS)
		return false;
	word = (__u32)nr / 64;
	asm volatile("" : "+r"(word)); /* keep the bound visible to older verifiers */
	word &= LAT_SYSCALL_SLOTS / 64 - 1;
	return (targ_syscalls[word] >> (nr & 63)) & 1;
}

SEC("tracepoint/raw_syscalls/sys_enter")
int lat_sys_enter(struct trace_event_raw_sys_enter *ctx)
{
	__s64 nr = ctx->id;

	if (count_syscalls && nr >= 0 && nr < LAT_SYSCALL_SLOTS) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32, index = nr;
		char comm[LAT_COMM_LEN] = {};
		__u64 *n;

		if (filter_comm)
			bpf_get_current_comm(&comm, sizeof(comm));
		if (wanted(tgid, comm)) {
			n = bpf_map_lookup_elem(&lat_sys_counts, &index);
			if (n)
				*n += 1; /* per-CPU slot */
		}
	}
	if (!syscall_selected(nr))
		return 0;
	return start_current(thread_key(0), nr);
}

SEC("tracepoint/raw_syscalls/sys_exit")
int lat_sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	if (!syscall_selected(ctx->id))
		return 0;
	return finish_current(thread_key(0), 0);
}

/* ---- block I/O: issue -> complete, per request, keyed by disk ---- */

SEC("raw_tp/block_rq_issue")
int BPF_PROG(lat_block_issue, struct request *rq)
{
	struct gendisk *disk = BPF_CORE_READ(rq, q, disk);
	__u32 dev = disk ? ((__u32)BPF_CORE_READ(disk, major) << 20) | (__u32)BPF_CORE_READ(disk, first_minor) : 0;

	return start_current((__u64)rq, dev);
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(lat_block_complete, struct request *rq)
{
	/* The completing context is not the issuer: no filter here (applied at issue). */
	return finish((__u64)rq, 0, true);
}

/* ---- run queue: wakeup -> switched in, per woken task ---- */

static __always_inline int runq_enqueue(struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	__u32 tid = BPF_CORE_READ(p, pid);
	char comm[LAT_COMM_LEN] = {};

	if (!tid)
		return 0; /* idle task */
	if (filter_comm || key_by_comm)
		bpf_probe_read_kernel_str(&comm, sizeof(comm), p->comm);
	if (!wanted(tgid, comm))
		return 0;
	start_with(tid, tgid, 0, comm);
	return 0;
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(lat_sched_wakeup, struct task_struct *p)
{
	return runq_enqueue(p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(lat_sched_wakeup_new, struct task_struct *p)
{
	return runq_enqueue(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(lat_sched_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* 1. A preempted task goes straight back onto the run queue. */
	if (BPF_CORE_READ(prev, __state) == TASK_RUNNING)
		runq_enqueue(prev);
	/* 2. The task switched in ends its wait. A task without a recorded wakeup (it
	 *    was queued before the probe started) is not a miss. */
	return finish(BPF_CORE_READ(next, pid), 0, false);
}

char LICENSE[] SEC("license") = "GPL";
