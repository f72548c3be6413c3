// SPDX-License-Identifier: GPL-2.0
/* Per-CPU counters and scratch, self-exclusion, the string cap, the caller's syscall arguments. */
#ifndef LANNER_BPF_COMMON_H
#define LANNER_BPF_COMMON_H

#include "lib/maps.h"
#include "lib/kernel_defs.h"

/* Masks through an opaque register so clang cannot drop the mask the verifier needs for bounds. */
static __always_inline __u32 clamp_mask(__u32 x, __u32 mask)
{
	asm volatile("" : "+r"(x));
	return x & mask;
}

static __always_inline struct lnr_counters *get_counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

static __always_inline struct lnr_scratch *get_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	return bpf_map_lookup_elem(&scratch, &cpu);
}

static __always_inline bool is_self(__u32 tgid)
{
#pragma unroll
	for (int i = 0; i < SELF_MAX; i++)
		if (self_tgids[i] == tgid)
			return true;
	return false;
}

/*
 * Whether the first `len` bytes of two 8-aligned buffers are equal, compared 8 at a time (bytes
 * past `len` in the last word are masked off), for len <= max_words * 8: the open filter's
 * prefixes and the kill paths (`b` may be a .bss table user space rewrites).
 */
static __always_inline bool words_equal(const __u64 *a, const volatile __u64 *b, __u32 len, __u32 max_words)
{
	for (__u32 k = 0; k < max_words; k++) {
		__u32 done = k * 8;
		if (done >= len)
			break;
		__u64 diff = a[k] ^ b[k];
		__u32 rest = len - done;
		if (rest < 8)
			diff &= (1ull << (rest * 8)) - 1;
		if (diff)
			return false;
	}
	return true;
}

static __always_inline __u32 str_cap(void)
{
	__u32 cap = cfg_max_str;
	return cap > LNR_MAX_STR ? LNR_MAX_STR : cap;
}

/* ---- syscall arguments --------------------------------------------------------------------- */

static __always_inline bool is_compat(struct task_struct *t)
{
	return t->thread_info.status & TS_COMPAT_;
}

/*
 * The caller's syscall arguments: x86-64 passes them in di, si, dx, r10, r8, r9; ia32 in bx, cx,
 * dx, si, di, bp as 32-bit values, kept zero-extended so pointers stay valid (and `(int)` casts,
 * as for dirfds, recover signed values).
 */
#define SYSCALL_ARG(regs, compat, r64, r32) ((compat) ? (__u64)(__u32)(regs)->r32 : (__u64)(regs)->r64)

#endif /* LANNER_BPF_COMMON_H */
