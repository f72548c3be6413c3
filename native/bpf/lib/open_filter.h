// SPDX-License-Identifier: GPL-2.0
/* The open-path prefix filter (events.h, native/README.md): which opens are kept in the kernel. */
#ifndef LANNER_BPF_OPEN_FILTER_H
#define LANNER_BPF_OPEN_FILTER_H

#include "lib/common.h"

static __always_inline bool is_open_type(__u16 type)
{
	return type == LNR_EVT_OPEN || type == LNR_EVT_OPENAT || type == LNR_EVT_OPENAT2 || type == LNR_EVT_CREAT;
}

/* Path byte sequences (oldest byte highest) that make a path non-normalised. */
#define SEQ_SLASH_SLASH 0x2f2f /* "//" */
#define SEQ_DOT_SEGMENT 0x2f2e2f /* "/./" */
#define SEQ_DOTDOT_SLASH 0x2e2e2f /* "../" anywhere: the rules' directory-traversal tests look for it */
#define SEQ_TRAILING_DOT 0x2f2e /* "/." at the end */
#define SEQ_TRAILING_DOTDOT 0x2f2e2e /* "/.." at the end */

/*
 * 1 = ship the open whose path the entry stash holds, 0 = no prefix can match it. Anything that
 * could make a byte-prefix test wrong ships: relative paths, truncated or missing copies, paths
 * past the scan window, '//' and '.' components, and any '../' (user space normalises those, so
 * "/tmp/../etc/shadow" must reach it, and a rule looking for '../' in the raw path needs no
 * prefix). A global function: its loops are verified once.
 */
__noinline int open_path_ships(const struct lnr_stash *st, __u32 count)
{
	if (!st)
		return 1;
	__s32 n = st->len; /* incl. NUL */
	if (n <= 1 || n > LNR_OPEN_FILTER_WINDOW || st->data[0] != '/')
		return 1;
	__u32 seq = 0;
	for (int i = 0; i < LNR_OPEN_FILTER_WINDOW; i++) {
		__u8 ch = st->data[i];
		if (ch == 0) {
			if ((seq & 0xffff) == SEQ_TRAILING_DOT || (seq & 0xffffff) == SEQ_TRAILING_DOTDOT)
				return 1;
			break;
		}
		seq = (seq << 8) | ch;
		if ((seq & 0xffff) == SEQ_SLASH_SLASH || (seq & 0xffffff) == SEQ_DOT_SEGMENT || (seq & 0xffffff) == SEQ_DOTDOT_SLASH)
			return 1;
	}

	/* Compare 8 bytes at a time; the stash is 8-aligned and bytes past the NUL are masked off or
	 * differ from the prefix (which holds no NUL), so a shorter path never matches. */
	const __u64 *path = (const __u64 *)st->data;
	__u32 path_len = n - 1;
	for (__u32 i = 0; i < LNR_OPEN_PREFIX_MAX; i++) {
		if (i >= count)
			break;
		__u32 key = i;
		const struct lnr_open_prefix *p = bpf_map_lookup_elem(&open_prefixes, &key);
		if (!p)
			break;
		__u32 len = p->len;
		if (len == 0 || len > LNR_OPEN_PREFIX_LEN || len > path_len)
			continue;
		const __u64 *want = (const __u64 *)p->bytes;
		bool same = true;
		for (__u32 k = 0; k < LNR_OPEN_PREFIX_LEN / 8; k++) {
			__u32 done = k * 8;
			if (done >= len)
				break;
			__u64 diff = path[k] ^ want[k];
			__u32 rest = len - done;
			if (rest < 8)
				diff &= (1ull << (rest * 8)) - 1;
			if (diff) {
				same = false;
				break;
			}
		}
		if (same)
			return 1;
	}
	return 0;
}

/*
 * Whether the task is one of the filter's processes: its own comm (what Falco's proc.name reads)
 * or its thread group leader's (what exec set for the process, which a worker thread may have
 * renamed away from).
 */
static __always_inline bool open_comm_ships(struct task_struct *t)
{
	char name[LNR_COMM_LEN] = {};
	bpf_get_current_comm(name, sizeof(name));
	if (bpf_map_lookup_elem(&open_comms, name))
		return true;
	char leader[LNR_COMM_LEN] = {};
	BPF_CORE_READ_STR_INTO(&leader, t, group_leader, comm);
	return bpf_map_lookup_elem(&open_comms, leader) != NULL;
}

/* Whether an open can modify its file: write access, O_TRUNC or O_CREAT. creat always writes;
 * openat2 keeps its flags behind a pointer, so it counts as writing (it then ships). */
static __always_inline __u32 open_can_write(__u16 type, __u64 a1, __u64 a2)
{
	__u64 flags;
	if (type == LNR_EVT_OPEN)
		flags = a1;
	else if (type == LNR_EVT_OPENAT)
		flags = a2;
	else
		return 1;
	return (flags & O_ACCMODE_) != 0 || (flags & (O_CREAT_ | O_TRUNC_)) != 0;
}

#endif /* LANNER_BPF_OPEN_FILTER_H */
