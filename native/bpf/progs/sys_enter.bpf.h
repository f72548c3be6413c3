// SPDX-License-Identifier: GPL-2.0
/*
 * lnr_sys_enter (tp_btf/sys_enter): copies TOCTOU-sensitive arguments (open-family paths, the
 * connect address) into task storage; lnr_sys_exit picks them up. Attached only while a type that
 * uses it is wanted. Included once, from probe.bpf.c.
 */
#include <bpf/bpf_tracing.h>
#include "lib/common.h"

static __always_inline bool wants_stash(__u32 nr)
{
	return nr == NR_open || nr == NR_openat || nr == NR_openat2 || nr == NR_creat || nr == NR_connect;
}

static __always_inline bool wants_stash_ia32(__u32 nr)
{
	return nr == NR32_open || nr == NR32_openat || nr == NR32_openat2 || nr == NR32_creat || nr == NR32_connect;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(lnr_sys_enter, struct pt_regs *regs, long id)
{
	__u32 nr = id;
	/* Two compares settle almost every syscall before anything else is read. */
	if (!wants_stash(nr) && !wants_stash_ia32(nr))
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	bool compat = is_compat(t);
	if (compat ? !wants_stash_ia32(nr) : !wants_stash(nr))
		return 0;
	__u32 key = compat ? LNR_IA32_BASE + nr : nr;
	__u8 *type = bpf_map_lookup_elem(&interesting, &key);
	if (!type || !*type)
		return 0;
	/* No self check here: an unused stash is harmless and the exit program filters self. */
	struct lnr_stash *st = bpf_task_storage_get(&stash, t, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	st->nr = key;
	__u64 a0 = SYSCALL_ARG(regs, compat, di, bx), a1 = SYSCALL_ARG(regs, compat, si, cx), a2 = SYSCALL_ARG(regs, compat, dx, dx);
	if (*type == LNR_EVT_CONNECT) {
		__s64 len = (__s32)a2;
		const void *uaddr = (const void *)a1;
		if (len > LNR_MAX_SOCKADDR)
			len = LNR_MAX_SOCKADDR;
		if (!uaddr || len <= 0 || bpf_probe_read_user(st->data, clamp_mask(len, LNR_MAX_SOCKADDR * 2 - 1), uaddr))
			len = 0;
		st->len = len;
		return 0;
	}
	const void *upath = (*type == LNR_EVT_OPEN || *type == LNR_EVT_CREAT) ? (const void *)a0 : (const void *)a1;
	st->len = bpf_probe_read_user_str(st->data, STASH_STR, upath);
	return 0;
}
