/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by probeboard's BPF programs (profile, latency, offcpu, events). Include after
 * vmlinux.h and bpf_helpers.h. Everything is __always_inline: each program gets its own copy,
 * and pointers to a program's const volatile settings stay visible to the verifier.
 */
#ifndef PROBEBOARD_PB_HELPERS_H
#define PROBEBOARD_PB_HELPERS_H

/* Adds 1 to slot `index` of a per-CPU u64 array map. A per-CPU slot has no other writer on
 * this CPU while the program runs, so a plain add is exact. */
static __always_inline void pb_percpu_inc(void *map, __u32 index)
{
	__u64 *value = bpf_map_lookup_elem(map, &index);

	if (value)
		*value += 1;
}

/* Whether the task name `comm` equals `want` (both NUL-padded, at most `len` bytes). */
static __always_inline bool pb_comm_equal(const char *comm, const volatile char *want, int len)
{
	for (int i = 0; i < len; i++) {
		if (comm[i] != want[i])
			return false;
		if (comm[i] == '\0')
			return true;
	}
	return true;
}

/* floor(log2(v)) for v > 0 (0 for 0): branch-free, as bcc's bits.bpf.h. */
static __always_inline __u32 pb_log2_32(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* floor(log2(v)) of a 64-bit value (0 for 0). */
static __always_inline __u32 pb_log2_64(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? pb_log2_32(hi) + 32 : pb_log2_32((__u32)v);
}

#endif /* PROBEBOARD_PB_HELPERS_H */
