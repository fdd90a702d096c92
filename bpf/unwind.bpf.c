// SPDX-License-Identifier: GPL-2.0
/*
 * probeboard CFI stack walker (x86-64 user space): a perf_event program that walks the user
 * stack of sampled tasks of the processes in pb_unwind_procs with the call-frame tables
 * compiled by server/unwind/compile.ts (rows in pb_unwind_rows, one table per binary), falling
 * back to one frame-pointer step where a pc has no table row, and sends each stack through the
 * pb_unwind_events ring buffer. Every sample ends in exactly one pb_unwind_end, counted.
 * A sample taken in kernel mode also gets its kernel stack, by bpf_get_stackid into the active
 * one of two stack trace maps (as profile.bpf.c does), its id sent with the event.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "unwind.h"
#include "pb_helpers.h"

#define PF_KTHREAD 0x00200000

/* Settings, written by user space before load. */
/* Walk with frame pointers only, ignoring the tables (for comparison). */
const volatile bool fp_only = false;

/* The compiled rows of every loaded table; max_entries set by user space before load. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PB_UNWIND_DEFAULT_ROWS);
	__type(key, __u32);
	__type(value, struct pb_unwind_row);
} pb_unwind_rows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PB_UNWIND_MAX_TABLES);
	__type(key, __u32);
	__type(value, struct pb_unwind_table);
} pb_unwind_tables SEC(".maps");

/* tgid -> mappings. Also the filter: only processes present here are walked. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PB_UNWIND_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct pb_unwind_proc);
} pb_unwind_procs SEC(".maps");

/* Kernel stacks, double-buffered: samples write to pb_unwind_kstacks<active_kstacks>; user space
 * flips pb_unwind_control once per interval and clears the other map, whose ids it has all read
 * by then. No BPF_F_REUSE_STACKID: a bucket collision loses the new stack (-EEXIST, counted by
 * user space) instead of changing a stack an earlier event points at. */
struct kstacks_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, PB_UNWIND_KSTACKS_MAX_ENTRIES);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, PB_UNWIND_MAX_DEPTH * sizeof(__u64));
};
struct kstacks_map pb_unwind_kstacks0 SEC(".maps");
struct kstacks_map pb_unwind_kstacks1 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pb_unwind_control);
} pb_unwind_control SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1024 * 1024);
} pb_unwind_events SEC(".maps");

/* The event being built (too big for the 512-byte BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pb_unwind_event);
} pb_unwind_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PB_USTAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} pb_unwind_stats SEC(".maps");

/*
 * Where the interrupted registers are when the walk reaches a signal trampoline (glibc's
 * __restore_rt, FDE with the 'S' augmentation). The handler returned into the trampoline by
 * popping rt_sigframe.pretcode, so the trampoline's RSP (the handler's CFA) points at
 * rt_sigframe.uc; the registers are in uc.uc_mcontext (struct sigcontext_64). Offsets from the
 * kernel's own types (vmlinux.h); they are x86-64 UAPI, the asserts pin them.
 */
#define SIGFRAME_MCONTEXT (__builtin_offsetof(struct ucontext, uc_mcontext))
#define SIGFRAME_RIP (SIGFRAME_MCONTEXT + __builtin_offsetof(struct sigcontext_64, ip))
#define SIGFRAME_RSP (SIGFRAME_MCONTEXT + __builtin_offsetof(struct sigcontext_64, sp))
#define SIGFRAME_RBP (SIGFRAME_MCONTEXT + __builtin_offsetof(struct sigcontext_64, bp))
_Static_assert(__builtin_offsetof(struct rt_sigframe, uc) == 8, "rt_sigframe.uc follows pretcode");
_Static_assert(SIGFRAME_MCONTEXT == 40, "ucontext: uc_flags, uc_link, stack_t uc_stack (24), then uc_mcontext");
_Static_assert(SIGFRAME_RBP == 40 + 80 && SIGFRAME_RSP == 40 + 120 && SIGFRAME_RIP == 40 + 128, "sigcontext_64: r8-r15, di, si, bp, bx, dx, ax, cx, sp, ip");

/* Walk state, on the program's stack, shared with the per-frame callback. */
struct walk {
	__u64 ip;        /* pc of the current frame */
	__u64 sp;        /* its RSP */
	__u64 bp;        /* its RBP (meaningful when bp_known) */
	__u32 pid;
	__u32 n;         /* ips stored */
	__u8 exact_pc;   /* ip is where the frame stopped (sampled pc, or interrupted by a signal), not a return address */
	__u8 bp_known;
	__u8 end;        /* enum pb_unwind_end once the walk ended */
	__u8 cfi;
	__u8 fp;
};

static __always_inline void stat_inc(__u32 index)
{
	pb_percpu_inc(&pb_unwind_stats, index);
}

static __always_inline void stat_add(__u32 index, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&pb_unwind_stats, &index);

	if (value)
		*value += n;
}

/* Copies the row for table pc `pc` into *out. False when the pc has no mapping, no table or no row. */
static __noinline bool find_row(__u32 pid, __u64 pc, struct pb_unwind_row *out)
{
	struct pb_unwind_proc *proc = bpf_map_lookup_elem(&pb_unwind_procs, &pid);
	struct pb_unwind_mapping *m = NULL;
	struct pb_unwind_table *table;
	struct pb_unwind_row *row;
	__u32 lo = 0, hi, mid, k, table_id, idx;
	__u64 table_pc;

	if (!proc)
		return false;
	/* 1. The mapping: binary search over at most 64 sorted mappings (7 steps). */
	hi = proc->count;
	if (hi > PB_UNWIND_MAX_MAPPINGS)
		hi = PB_UNWIND_MAX_MAPPINGS;
	for (k = 0; k < 7 && lo < hi; k++) {
		mid = (lo + hi) / 2;
		m = &proc->mappings[mid & (PB_UNWIND_MAX_MAPPINGS - 1)];
		if (pc < m->start) {
			hi = mid;
		} else if (pc >= m->end) {
			lo = mid + 1;
		} else {
			break;
		}
		m = NULL;
	}
	if (!m || m->table_id == PB_UNWIND_NO_TABLE)
		return false;
	table_id = m->table_id;
	table_pc = pc + m->bias;
	table = bpf_map_lookup_elem(&pb_unwind_tables, &table_id);
	if (!table || table->row_count == 0)
		return false;

	/* 2. The row: the last one whose pc <= table_pc (row_count < 2^24: 24 steps). */
	lo = 0;
	hi = table->row_count;
	for (k = 0; k < PB_UNWIND_ROW_SEARCH_STEPS && lo < hi; k++) {
		mid = (lo + hi) / 2;
		idx = table->first_row + mid;
		row = bpf_map_lookup_elem(&pb_unwind_rows, &idx);
		if (!row)
			return false;
		if (row->pc <= table_pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false; /* below the table's first row */
	idx = table->first_row + lo - 1;
	row = bpf_map_lookup_elem(&pb_unwind_rows, &idx);
	if (!row)
		return false;
	*out = *row;
	return true;
}

static __always_inline bool read_u64(__u64 addr, __u64 *out)
{
	return bpf_probe_read_user(out, sizeof(*out), (const void *)addr) == 0;
}

/* One frame: store w->ip, then find the caller's ip/sp/bp. Returns 1 to stop the walk. */
static long step(__u32 i, struct walk *w)
{
	__u32 zero = 0, n = w->n;
	struct pb_unwind_event *ev = bpf_map_lookup_elem(&pb_unwind_scratch, &zero);
	struct pb_unwind_row row = {};
	__u64 cfa, ra, bp = w->bp, lookup_pc;
	bool have_row = false, bp_known = w->bp_known;

	if (!ev || n >= PB_UNWIND_MAX_DEPTH) {
		w->end = PB_END_TRUNCATED;
		return 1;
	}
	ev->ips[n] = w->ip;
	w->n = ++n;

	/* 1. The row. A return address is the instruction after the call: look up the call itself. */
	lookup_pc = w->exact_pc ? w->ip : w->ip - 1;
	if (!fp_only)
		have_row = find_row(w->pid, lookup_pc, &row);
	if (have_row && row.cfa_type == PB_CFA_NO_CFI)
		have_row = false;

	if (!have_row) {
		/* 2a. Frame-pointer fallback: [rbp] = caller's rbp, [rbp+8] = return address. An RBP of
		 *     0 ends it as NO_TABLE even where it marks the outermost frame (_start clears RBP):
		 *     it cannot be told from a function that does not keep a frame pointer. */
		if (!bp_known || w->bp == 0) {
			w->end = PB_END_NO_TABLE;
			return 1;
		}
		cfa = w->bp + 16;
		if (!read_u64(w->bp, &bp) || !read_u64(w->bp + 8, &ra)) {
			w->end = PB_END_READ_FAULT;
			return 1;
		}
		bp_known = true;
		w->fp++;
	} else {
		/* 2b. The row's rule. */
		switch (row.cfa_type) {
		case PB_CFA_RSP:
			cfa = w->sp + row.cfa_offset;
			break;
		case PB_CFA_RBP:
			if (!bp_known) {
				w->end = PB_END_UNSUPPORTED;
				return 1;
			}
			cfa = w->bp + row.cfa_offset;
			break;
		case PB_CFA_PLT:
			/* Past the entry's push (byte >= threshold of the 16-byte entry): 8 more bytes. */
			cfa = w->sp + row.cfa_offset + ((w->ip & 15) >= (__u64)row.rbp_offset ? 8 : 0);
			break;
		case PB_CFA_END_OF_STACK:
			w->end = PB_END_COMPLETE;
			return 1;
		case PB_CFA_SIGNAL_FRAME:
			/* The interrupted frame's registers, saved by the kernel in the rt_sigframe. */
			if (!read_u64(w->sp + SIGFRAME_RIP, &ra) || !read_u64(w->sp + SIGFRAME_RSP, &cfa) ||
			    !read_u64(w->sp + SIGFRAME_RBP, &bp)) {
				w->end = PB_END_READ_FAULT;
				return 1;
			}
			w->cfi++;
			if (ra == 0) {
				w->end = PB_END_COMPLETE;
				return 1;
			}
			if (n >= PB_UNWIND_MAX_DEPTH) {
				w->end = PB_END_TRUNCATED;
				return 1;
			}
			/* The interrupted pc is exact, and its stack may be elsewhere (sigaltstack). */
			w->ip = ra;
			w->sp = cfa;
			w->bp = bp;
			w->bp_known = true;
			w->exact_pc = true;
			return 0;
		default: /* PB_CFA_UNSUPPORTED and anything unknown */
			w->end = PB_END_UNSUPPORTED;
			return 1;
		}
		if (!read_u64(cfa - 8, &ra)) {
			w->end = PB_END_READ_FAULT;
			return 1;
		}
		if (row.rbp_type == PB_RBP_AT_CFA && row.cfa_type != PB_CFA_PLT) {
			if (!read_u64(cfa + row.rbp_offset, &bp)) {
				w->end = PB_END_READ_FAULT;
				return 1;
			}
			bp_known = true;
		} else if (row.rbp_type == PB_RBP_UNKNOWN) {
			bp_known = false;
		}
		w->cfi++;
	}

	/* 3. The caller. The stack grows down, so each caller's CFA lies above the callee's sp. */
	if (ra == 0) {
		w->end = PB_END_COMPLETE;
		return 1;
	}
	if (cfa <= w->sp) {
		w->end = PB_END_BAD_FRAME;
		return 1;
	}
	if (n >= PB_UNWIND_MAX_DEPTH) {
		w->end = PB_END_TRUNCATED;
		return 1;
	}
	w->ip = ra;
	w->sp = cfa;
	w->bp = bp;
	w->bp_known = bp_known;
	w->exact_pc = false;
	return 0;
}

SEC("perf_event")
int pb_unwind(struct bpf_perf_event_data *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct walk w = { .exact_pc = 1, .bp_known = 1, .end = PB_END_TRUNCATED };
	struct pb_unwind_event *ev;
	struct pb_unwind_control *control;
	struct task_struct *task;
	struct pt_regs *regs;
	__u32 zero = 0, n, size;
	__u16 insn = 0;
	__u8 flags = fp_only ? PB_UNWIND_F_FP_ONLY : 0;
	__s32 kernel_stack_id = PB_UNWIND_KSTACK_NONE;
	__u32 kernel_buffer = 0;

	/* 1. Target filter: processes with a mapping list. */
	w.pid = id >> 32;
	if (!bpf_map_lookup_elem(&pb_unwind_procs, &w.pid))
		return 0;
	stat_inc(PB_USTAT_SAMPLES);

	/* 2. User registers: the sample's own when it hit user mode (x86-64: ip in the lower
	 *    half), else those the task saved on entering the kernel. */
	task = bpf_get_current_task_btf();
	if ((BPF_CORE_READ(task, flags) & PF_KTHREAD) || !BPF_CORE_READ(task, mm)) {
		stat_inc(PB_USTAT_NO_REGS);
		return 0;
	}
	if ((long)ctx->regs.ip >= 0) {
		w.ip = ctx->regs.ip;
		w.sp = ctx->regs.sp;
		w.bp = ctx->regs.bp;
	} else {
		regs = (struct pt_regs *)bpf_task_pt_regs(task);
		w.ip = BPF_CORE_READ(regs, ip);
		w.sp = BPF_CORE_READ(regs, sp);
		w.bp = BPF_CORE_READ(regs, bp);
		flags |= PB_UNWIND_F_KERNEL_REGS;
		/* In a system call the saved ip follows the `syscall` instruction (0f 05), which may
		 * end its function (glibc's __restore_rt): look the frame up as a return address.
		 * Faults and interrupts save the instruction's own ip, looked up as it is. */
		if (bpf_probe_read_user(&insn, sizeof(insn), (const void *)(w.ip - 2)) == 0 && insn == 0x050f)
			w.exact_pc = 0;
	}

	/* 3. The kernel stack, when the sample hit kernel mode (a user-mode sample has none). */
	if (flags & PB_UNWIND_F_KERNEL_REGS) {
		control = bpf_map_lookup_elem(&pb_unwind_control, &zero);
		if (control && control->active_kstacks == 1) {
			kernel_buffer = 1;
			kernel_stack_id = bpf_get_stackid(ctx, &pb_unwind_kstacks1, 0);
		} else {
			kernel_stack_id = bpf_get_stackid(ctx, &pb_unwind_kstacks0, 0);
		}
	}

	/* 4. Walk: one callback call per frame. */
	bpf_loop(PB_UNWIND_MAX_DEPTH, step, &w, 0);

	/* 5. Count, and send the stack. */
	stat_inc(PB_USTAT_END_COMPLETE + (w.end < PB_END_MAX ? w.end : PB_END_UNSUPPORTED));
	stat_add(PB_USTAT_CFI_FRAMES, w.cfi);
	stat_add(PB_USTAT_FP_FRAMES, w.fp);
	ev = bpf_map_lookup_elem(&pb_unwind_scratch, &zero);
	if (!ev)
		return 0;
	n = w.n;
	if (n > PB_UNWIND_MAX_DEPTH)
		n = PB_UNWIND_MAX_DEPTH;
	ev->pid = w.pid;
	ev->tid = (__u32)id;
	ev->end_reason = w.end;
	ev->cfi_frames = w.cfi;
	ev->fp_frames = w.fp;
	ev->flags = flags;
	ev->n = n;
	ev->reserved = 0;
	ev->kernel_stack_id = kernel_stack_id;
	ev->kernel_buffer = kernel_buffer;
	size = __builtin_offsetof(struct pb_unwind_event, ips) + n * sizeof(__u64);
	if (bpf_ringbuf_output(&pb_unwind_events, ev, size, 0))
		stat_inc(PB_USTAT_EVENTS_LOST);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
