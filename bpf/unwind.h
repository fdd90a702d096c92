/* SPDX-License-Identifier: MIT */
/*
 * probeboard CFI stack walker: layouts shared by unwind.bpf.c and server/abi/unwind.ts.
 * Fixed-width types only; server/abi/unwind.test.ts checks the TypeScript mirror against the
 * offsets a C compiler gives for this file. The row layout is the one server/unwind/compile.ts
 * writes (documented at the top of that file).
 */
#ifndef PROBEBOARD_UNWIND_H
#define PROBEBOARD_UNWIND_H

/* Frames kept per stack (the kernel's default perf_event_max_stack). */
#define PB_UNWIND_MAX_DEPTH 127
/* Executable mappings per process the walker can see (sorted by start; more are counted, not kept). */
#define PB_UNWIND_MAX_MAPPINGS 64
/* Processes walked at once (the pid map doubles as the target filter). */
#define PB_UNWIND_MAX_PROCS 1024
/* Distinct tables (one per binary build-id) loaded at once. */
#define PB_UNWIND_MAX_TABLES 4096
/* Steps of the row binary search; a table has fewer than 2^steps rows so that it always ends. */
#define PB_UNWIND_ROW_SEARCH_STEPS 24
#define PB_UNWIND_MAX_TABLE_ROWS ((1 << PB_UNWIND_ROW_SEARCH_STEPS) - 1)
/* Default capacity of the rows map (user space may set another before load): 16 MiB of rows. */
#define PB_UNWIND_DEFAULT_ROWS (1 << 20)
/* Table id of a mapping whose binary has no table (no CFI, not readable, did not fit). */
#define PB_UNWIND_NO_TABLE 0xffffffffu
/* Kernel stack trace map entries per buffer (profile.h's PB_STACKS_MAX_ENTRIES policy: the
 * bucket count is this rounded up to a power of two; values are 127 u64, preallocated). */
#define PB_UNWIND_KSTACKS_MAX_ENTRIES 16384
/* kernel_stack_id of a sample taken in user mode: it has no kernel stack, nothing was lost.
 * Any other negative id is the -errno of bpf_get_stackid (-EEXIST: bucket collision, -EFAULT:
 * the stack could not be walked, other: e.g. -ENOMEM), as in profile.h. INT32_MIN. */
#define PB_UNWIND_KSTACK_NONE (-2147483647 - 1)

/* CfaType of server/unwind/compile.ts. */
enum pb_unwind_cfa_type {
	PB_CFA_RSP = 1,
	PB_CFA_RBP = 2,
	PB_CFA_PLT = 3,
	PB_CFA_END_OF_STACK = 4,
	PB_CFA_SIGNAL_FRAME = 5,
	PB_CFA_UNSUPPORTED = 6,
	PB_CFA_NO_CFI = 7,
};

/* RbpType of server/unwind/compile.ts. */
enum pb_unwind_rbp_type {
	PB_RBP_UNCHANGED = 0,
	PB_RBP_AT_CFA = 1,
	PB_RBP_UNKNOWN = 2,
};

/* One row of a compiled table: 16 bytes (compile.ts ROW_BYTES). */
struct pb_unwind_row {
	__u64 pc;          /* first ELF vaddr the row covers (up to the next row's pc) */
	__s32 cfa_offset;  /* bytes added to RSP/RBP for the CFA */
	__s16 rbp_offset;  /* RBP_AT_CFA: caller's RBP at [CFA + rbp_offset]; PLT: the threshold */
	__u8 cfa_type;     /* enum pb_unwind_cfa_type */
	__u8 rbp_type;     /* enum pb_unwind_rbp_type */
};

/* pb_unwind_tables[table id]: where the table's rows are in pb_unwind_rows. */
struct pb_unwind_table {
	__u32 first_row;   /* index of the table's first row in pb_unwind_rows */
	__u32 row_count;   /* rows; 0: an empty slot */
};

/* One executable mapping of a process: 32 bytes. */
struct pb_unwind_mapping {
	__u64 start;       /* runtime address, inclusive */
	__u64 end;         /* runtime address, exclusive */
	__s64 bias;        /* table pc (ELF vaddr) = runtime pc + bias */
	__u32 table_id;    /* index into pb_unwind_tables, or PB_UNWIND_NO_TABLE */
	__u32 reserved;
};

/* pb_unwind_procs[tgid]: the process's executable mappings, sorted by start, non-overlapping. */
struct pb_unwind_proc {
	__u32 count;       /* mappings used, <= PB_UNWIND_MAX_MAPPINGS */
	__u32 reserved;
	struct pb_unwind_mapping mappings[PB_UNWIND_MAX_MAPPINGS];
};

/* Why a walk ended. */
enum pb_unwind_end {
	PB_END_COMPLETE = 0,    /* reached the outermost frame (END_OF_STACK row, or a zero return address) */
	PB_END_TRUNCATED = 1,   /* PB_UNWIND_MAX_DEPTH frames kept, more above */
	PB_END_NO_TABLE = 2,    /* no row for the pc and no frame pointer to fall back on (RBP zero or unknown) */
	PB_END_READ_FAULT = 3,  /* reading the user stack failed (paged out, bad pointer) */
	PB_END_UNSUPPORTED = 4, /* an UNSUPPORTED row, or a CFA from RBP whose value is unknown */
	PB_END_BAD_FRAME = 5,   /* the caller's CFA is not above the current one: a loop or garbage */
	PB_END_MAX = 6,
};

/* Event flags. */
#define PB_UNWIND_F_KERNEL_REGS 1 /* sampled in kernel mode: the walk started from the task's saved user registers */
#define PB_UNWIND_F_FP_ONLY 2     /* the object was loaded with fp_only: frame pointers only, tables ignored */

/* One sample, as sent through pb_unwind_events: 24 + 8 * PB_UNWIND_MAX_DEPTH bytes (only the
 * first n ips are sent). ips[0] is the sampled pc; the others are return addresses. */
struct pb_unwind_event {
	__u32 pid;         /* tgid */
	__u32 tid;
	__u8 end_reason;   /* enum pb_unwind_end */
	__u8 cfi_frames;   /* steps taken with a table row */
	__u8 fp_frames;    /* steps taken by the frame-pointer fallback */
	__u8 flags;        /* PB_UNWIND_F_* */
	__u16 n;           /* ips used */
	__u16 reserved;
	__s32 kernel_stack_id; /* >= 0: id in pb_unwind_kstacks<kernel_buffer>; PB_UNWIND_KSTACK_NONE; or -errno */
	__u32 kernel_buffer;   /* 0 or 1: the stack map the id is in (pb_unwind_control.active_kstacks then) */
	__u64 ips[PB_UNWIND_MAX_DEPTH];
};

/* pb_unwind_control array, key 0: which kernel stack map (0 or 1) samples write to. User space
 * flips it once per interval and clears the other map (its ids all read by then). */
struct pb_unwind_control {
	__u32 active_kstacks;
};

/* Index into the per-CPU pb_unwind_stats array: cumulative since load. */
enum pb_unwind_stat {
	PB_USTAT_SAMPLES = 0,          /* samples of a target process */
	PB_USTAT_END_COMPLETE = 1,     /* PB_USTAT_END_COMPLETE + enum pb_unwind_end: one per sample */
	PB_USTAT_END_TRUNCATED = 2,
	PB_USTAT_END_NO_TABLE = 3,
	PB_USTAT_END_READ_FAULT = 4,
	PB_USTAT_END_UNSUPPORTED = 5,
	PB_USTAT_END_BAD_FRAME = 6,
	PB_USTAT_EVENTS_LOST = 7,      /* ring buffer full: the event was not sent */
	PB_USTAT_CFI_FRAMES = 8,       /* steps by a table row, all samples */
	PB_USTAT_FP_FRAMES = 9,        /* steps by the frame-pointer fallback, all samples */
	PB_USTAT_NO_REGS = 10,         /* no user registers (kernel thread, exiting task): no walk, no event */
	PB_USTAT_MAX = 11,
};

#endif /* PROBEBOARD_UNWIND_H */
