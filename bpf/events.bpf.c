// SPDX-License-Identifier: GPL-2.0
/*
 * probeboard event streams: one record per event, sent to user space through a BPF ring
 * buffer (or a perf buffer where the kernel has no ring buffer: use_perfbuf, set before load).
 * Programs (user space loads only the one a spec needs, autoload off for the rest):
 *   pb_ev_exec        tracepoint sched/sched_process_exec: filename + command line (execsnoop)
 *   pb_ev_tracepoint  any tracepoint: the raw record, decoded in user space from its format
 *   pb_ev_uprobe      any user function: the first integer arguments, optional strings
 *   pb_ev_usdt        any USDT probe: its arguments through libbpf's bpf_usdt_arg()
 * Every record that could not be sent (buffer full) is counted per probe in pb_ev_lost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "events.h"
#include "pb_helpers.h"

/* Settings, written by user space before load. */
const volatile __u32 targ_tgid = 0;        /* only this process (exec: or its children); 0 = all */
const volatile bool use_perfbuf = false;   /* send through pb_ev_perf instead of pb_ev_ring */
/* tracepoint: offsets of up to 4 __data_loc / __rel_loc fields, so the record's dynamic part is sent too. */
const volatile __u32 tp_fixed_size = 0;
const volatile __u32 tp_loc_count = 0;
/* (each array has one spare element: user space writes byte arrays NUL-terminated) */
const volatile __u32 tp_loc_offset[5] = {};
const volatile __u32 tp_loc_rel[5] = {};   /* 1: __rel_loc (offset relative to the end of the field) */
/* uprobe/usdt: enum pb_arg_kind per argument; string arguments use slots in argument order. */
const volatile __u8 arg_kind[PB_EV_MAX_ARGS + 1] = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22); /* bytes; user space may resize before load */
} pb_ev_ring SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb_ev_perf SEC(".maps");

/* Records lost per probe (buffer full). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PB_EV_MAX_PROBES);
	__type(key, __u32);
	__type(value, __u64);
} pb_ev_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PB_EV_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pb_ev_stats SEC(".maps");

/* Per-CPU scratch records, too large for the 512-byte BPF stack. */
struct exec_record {
	struct pb_event_header hdr;
	struct pb_exec_data data;
};
struct tp_record {
	struct pb_event_header hdr;
	char data[PB_EV_TP_MAX];
};
struct call_record {
	struct pb_event_header hdr;
	struct pb_call_data data;
};
union scratch {
	struct exec_record exec;
	struct tp_record tp;
	struct call_record call;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union scratch);
} pb_ev_scratch SEC(".maps");

static __always_inline void stat_inc(__u32 index)
{
	pb_percpu_inc(&pb_ev_stats, index);
}

static __always_inline void *scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pb_ev_scratch, &zero);
}

/* Fills the common header; returns false when the current process is filtered out. */
static __always_inline void fill_header(struct pb_event_header *hdr, __u16 kind, __u32 probe)
{
	__u64 id = bpf_get_current_pid_tgid();

	hdr->ts_ns = bpf_ktime_get_ns();
	hdr->pid = id >> 32;
	hdr->tid = (__u32)id;
	hdr->probe_id = probe;
	hdr->kind = kind;
	hdr->data_size = 0;
	bpf_get_current_comm(hdr->comm, sizeof(hdr->comm));
}

/* Sends `size` bytes at `data`; counts a loss per probe when the buffer is full. */
static __always_inline void submit(void *ctx, void *data, __u64 size, __u32 probe)
{
	long err;

	if (use_perfbuf)
		err = bpf_perf_event_output(ctx, &pb_ev_perf, BPF_F_CURRENT_CPU, data, size);
	else
		err = bpf_ringbuf_output(&pb_ev_ring, data, size, BPF_RB_NO_WAKEUP); /* user space polls on a timer, never waits */
	if (err) {
		__u32 key = probe < PB_EV_MAX_PROBES ? probe : PB_EV_MAX_PROBES - 1;
		__u64 *lost = bpf_map_lookup_elem(&pb_ev_lost, &key);

		if (lost)
			__sync_fetch_and_add(lost, 1);
		stat_inc(PB_EV_STAT_LOST);
	} else {
		stat_inc(PB_EV_STAT_SENT);
	}
}

static __always_inline bool tgid_passes(void)
{
	return targ_tgid == 0 || (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

SEC("tracepoint/sched/sched_process_exec")
int pb_ev_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_record *rec;
	unsigned long arg_start, arg_end;
	__u32 ppid, fname_off;
	__u64 len;
	long n;

	ppid = BPF_CORE_READ(task, real_parent, tgid);
	if (targ_tgid != 0 && (bpf_get_current_pid_tgid() >> 32) != targ_tgid && ppid != targ_tgid)
		return 0;
	stat_inc(PB_EV_STAT_SEEN);
	rec = scratch();
	if (!rec)
		return 0;
	fill_header(&rec->hdr, PB_EV_EXEC, 0);
	rec->data.ppid = ppid;
	rec->data.uid = (__u32)bpf_get_current_uid_gid();
	rec->data.old_pid = ctx->old_pid;
	rec->data.args_truncated = 0;
	rec->data.pad = 0;

	/* 1. filename, from the tracepoint's __data_loc field */
	fname_off = ctx->__data_loc_filename & 0xFFFF;
	n = bpf_probe_read_kernel_str(rec->data.filename, sizeof(rec->data.filename), (void *)ctx + fname_off);
	rec->data.filename_len = n > 0 ? n : 0;

	/* 2. command line: the new image's argv strings, contiguous at mm->arg_start..arg_end */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > PB_EV_ARGS_SIZE) {
		len = PB_EV_ARGS_SIZE;
		rec->data.args_truncated = 1;
	}
	if (bpf_probe_read_user(rec->data.args, len, (void *)arg_start) != 0)
		len = 0;
	rec->data.args_len = len;

	/* 3. send header + fixed fields + the used part of args */
	len += offsetof(struct pb_exec_data, args);
	rec->hdr.data_size = len;
	len += sizeof(struct pb_event_header);
	if (len > sizeof(*rec))
		return 0;
	submit(ctx, rec, len, 0);
	return 0;
}

SEC("tracepoint")
int pb_ev_tracepoint(void *ctx)
{
	__u32 probe = bpf_get_attach_cookie(ctx);
	struct tp_record *rec;
	__u32 size = tp_fixed_size;
	__u64 total;

	if (!tgid_passes())
		return 0;
	stat_inc(PB_EV_STAT_SEEN);
	rec = scratch();
	if (!rec)
		return 0;
	fill_header(&rec->hdr, PB_EV_TRACEPOINT, probe);
	/* 1. copy the most a record can hold (the per-CPU trace buffer is larger); size it below */
	bpf_probe_read_kernel(rec->data, sizeof(rec->data), ctx);

	/* 2. the record ends after its fixed part and after the data of every __data_loc field */
#pragma unroll
	for (int i = 0; i < 4; i++) {
		__u32 off = tp_loc_offset[i], loc, end;

		if (i >= tp_loc_count || off > PB_EV_TP_MAX - 4)
			break;
		loc = *(__u32 *)&rec->data[off];
		end = (loc & 0xFFFF) + (loc >> 16) + (tp_loc_rel[i] ? off + 4 : 0);
		if (end > size)
			size = end;
	}
	if (size > PB_EV_TP_MAX) {
		size = PB_EV_TP_MAX;
		stat_inc(PB_EV_STAT_TRUNCATED);
	}
	barrier_var(size); /* keep a bounds check the verifier can see */
	if (size > PB_EV_TP_MAX)
		return 0;
	rec->hdr.data_size = size;
	total = sizeof(struct pb_event_header) + size;
	if (total > sizeof(*rec))
		return 0;
	submit(ctx, rec, total, probe);
	return 0;
}

/* Fills arguments (values already in rec->data.args) and string slots; sends the record. */
static __always_inline void send_call(void *ctx, struct call_record *rec, __u32 probe)
{
	int slot = 0;

#pragma unroll
	for (int i = 0; i < PB_EV_MAX_ARGS; i++) {
		if (arg_kind[i] != PB_ARG_STR)
			continue;
		if (slot < PB_EV_MAX_STRS) {
			long n = bpf_probe_read_user_str(rec->data.str[slot], PB_EV_STR_SIZE, (void *)rec->data.args[i]);

			rec->data.str_len[slot] = n;
			slot++;
		}
	}
	/* send only the string slots in use */
	__u64 size = offsetof(struct pb_call_data, str) + (__u64)slot * PB_EV_STR_SIZE;

	barrier_var(size);
	if (size > sizeof(rec->data))
		return;
	rec->hdr.data_size = size;
	submit(ctx, rec, sizeof(rec->hdr) + size, probe);
}

static __always_inline struct call_record *begin_call(__u16 kind, __u32 probe)
{
	struct call_record *rec;

	if (!tgid_passes())
		return 0;
	stat_inc(PB_EV_STAT_SEEN);
	rec = scratch();
	if (!rec)
		return 0;
	fill_header(&rec->hdr, kind, probe);
	__builtin_memset(&rec->data, 0, sizeof(rec->data.args) + sizeof(rec->data.arg_err) + sizeof(rec->data.str_len));
	return rec;
}

SEC("uprobe")
int pb_ev_uprobe(struct pt_regs *ctx)
{
	__u32 probe = bpf_get_attach_cookie(ctx);
	struct call_record *rec = begin_call(PB_EV_UPROBE, probe);

	if (!rec)
		return 0;
	/* x86_64 SysV: the first six integer arguments are in registers */
	if (arg_kind[0]) rec->data.args[0] = PT_REGS_PARM1(ctx);
	if (arg_kind[1]) rec->data.args[1] = PT_REGS_PARM2(ctx);
	if (arg_kind[2]) rec->data.args[2] = PT_REGS_PARM3(ctx);
	if (arg_kind[3]) rec->data.args[3] = PT_REGS_PARM4(ctx);
	if (arg_kind[4]) rec->data.args[4] = PT_REGS_PARM5(ctx);
	if (arg_kind[5]) rec->data.args[5] = ctx->r9; /* PT_REGS_PARM6 (not in libbpf 1.1) */
	send_call(ctx, rec, probe);
	return 0;
}

SEC("usdt")
int pb_ev_usdt(struct pt_regs *ctx)
{
	__u32 probe = bpf_usdt_cookie(ctx);
	struct call_record *rec = begin_call(PB_EV_USDT, probe);
	int count = bpf_usdt_arg_cnt(ctx);

	if (!rec)
		return 0;
#pragma unroll
	for (int i = 0; i < PB_EV_MAX_ARGS; i++) {
		long val = 0;

		if (!arg_kind[i] || i >= count)
			continue;
		rec->data.arg_err[i] = bpf_usdt_arg(ctx, i, &val);
		rec->data.args[i] = val;
	}
	send_call(ctx, rec, probe);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
