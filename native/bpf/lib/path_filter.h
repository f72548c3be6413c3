// SPDX-License-Identifier: GPL-2.0
/* The path filters (events.h, native/README.md): which opens and path changes are kept in the kernel. */
#ifndef LANNER_BPF_PATH_FILTER_H
#define LANNER_BPF_PATH_FILTER_H

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

/* One path against a range of suffixes: bpf_loop's context (the callback is verified once, however
 * many suffixes the table holds). */
struct path_match {
	const struct lnr_stash *st;
	__u32 path_len; /* < LNR_PATH_FILTER_WINDOW */
	__u32 first; /* the range's first entry */
	__u32 found;
};

/* Whether the path bytes from `start` are the entry's `len` bytes (start + len <= the path's
 * length, which is inside the window). Suffix and substring entries share the layout. */
_Static_assert(LNR_PATH_NEEDLE_LEN <= LNR_PATH_SUFFIX_LEN, "substrings live in suffix-shaped entries");
static __always_inline bool bytes_at(const __u8 *data, __u32 start, const struct lnr_path_suffix *x, __u32 len)
{
	for (__u32 k = 0; k < LNR_PATH_SUFFIX_LEN; k++) {
		if (k >= len)
			break;
		if (data[(start + k) & (LNR_PATH_FILTER_WINDOW - 1)] != x->bytes[k])
			return false;
	}
	return true;
}

/* Suffixes, a byte at a time from where the suffix would start. */
static long suffix_matches(__u32 i, void *ctx)
{
	struct path_match *m = ctx;
	__u32 key = m->first + i;
	const struct lnr_path_suffix *x = bpf_map_lookup_elem(&path_suffixes, &key);
	if (!x)
		return 1;
	__u32 len = x->len;
	if (len == 0 || len > LNR_PATH_SUFFIX_LEN || len > m->path_len)
		return 0;
	if (!bytes_at(m->st->data, m->path_len - len, x, len))
		return 0;
	m->found = 1;
	return 1;
}

/*
 * 1 = ship the call whose path `st` holds, 0 = no atom in the ranges [pfirst, pend) of
 * path_prefixes and [sfirst, send) of path_suffixes can match it. Anything that could make a byte
 * test wrong ships: relative paths, truncated or missing copies, paths past the scan window or the
 * record's string cap, '//' and '.' components, and any '../' (user space normalises those, so
 * "/tmp/../etc/shadow" must reach it, and a rule looking for '../' in the raw path needs no atom).
 * A judged path is its own normal form, so an exact or suffix test on the bytes is the rule's
 * test. A global function: its loops are verified once.
 */
__noinline int path_ships(const struct lnr_stash *st, __u32 pfirst, __u32 pend, __u32 sfirst, __u32 send)
{
	if (!st)
		return 1;
	__s32 n = st->len; /* incl. NUL */
	/* A record cut short (probe.max_string_bytes below the window) no longer holds the path judged. */
	if (n <= 1 || n > LNR_PATH_FILTER_WINDOW || (__u32)n >= str_cap() || st->data[0] != '/')
		return 1;
	__u32 seq = 0;
	for (int i = 0; i < LNR_PATH_FILTER_WINDOW; i++) {
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
	/* Prefixes and exact paths in a plain loop, 8 bytes at a time (the stash is 8-aligned; bytes
	 * past the NUL are masked off or differ from the prefix, which holds no NUL, so a shorter path
	 * never matches). The open path runs it on every open, and a bpf_loop callback per entry cost
	 * ~5 ns more each (measured: sys_exit 710 -> 990 ns with the default rules' 55 atoms).
	 * Suffixes and substrings are few and take bpf_loop. */
	struct path_match m = { .st = st, .path_len = n - 1, .first = pfirst, .found = 0 };
	const __u64 *path = (const __u64 *)st->data;
	__u32 path_len = n - 1;
	for (__u32 i = 0; i < LNR_PATH_PREFIX_MAX; i++) {
		__u32 key = pfirst + i;
		if (key >= pend)
			break;
		const struct lnr_path_prefix *p = bpf_map_lookup_elem(&path_prefixes, &key);
		if (!p)
			break;
		__u32 len = p->len;
		if (len == 0 || len > LNR_PATH_PREFIX_LEN || len > path_len || (p->exact && len != path_len))
			continue;
		if (words_equal(path, (const __u64 *)p->bytes, len, LNR_PATH_PREFIX_LEN / 8))
			return 1;
	}
	if (m.found)
		return 1;
	m.first = sfirst;
	if (send > sfirst && send <= LNR_PATH_SUFFIX_MAX)
		bpf_loop(send - sfirst, suffix_matches, &m, 0);
	return m.found;
}

/* A substring search: bpf_loop's context, over the needles and then the positions of one. */
struct needle_search {
	const struct lnr_stash *st;
	const struct lnr_path_suffix *needle;
	__u32 path_len;
	__u32 first;
	__u32 found;
};

static long needle_at(__u32 pos, void *ctx)
{
	struct needle_search *m = ctx;
	const struct lnr_path_suffix *x = m->needle;
	if (!x)
		return 1;
	__u32 len = x->len;
	if (len == 0 || len > LNR_PATH_NEEDLE_LEN || pos + len > m->path_len)
		return 1;
	if (!bytes_at(m->st->data, pos, x, len))
		return 0;
	m->found = 1;
	return 1;
}

static long needle_in_path(__u32 i, void *ctx)
{
	struct needle_search *m = ctx;
	__u32 key = m->first + i;
	m->needle = bpf_map_lookup_elem(&path_needles, &key);
	if (!m->needle)
		return 1;
	bpf_loop(m->path_len, needle_at, m, 0);
	return m->found ? 1 : 0;
}

/*
 * 1 = a judged path (path_ships said 0: absolute, normalised, inside the window) holds one of the
 * substrings [first, end) of path_needles. A global function: its loops are verified once.
 */
__noinline int path_has_needle(const struct lnr_stash *st, __u32 first, __u32 end)
{
	if (!st || end <= first || end > LNR_PATH_NEEDLE_MAX)
		return 0;
	__s32 n = st->len;
	if (n <= 1 || n > LNR_PATH_FILTER_WINDOW)
		return 0;
	struct needle_search m = { .st = st, .needle = NULL, .path_len = n - 1, .first = first, .found = 0 };
	bpf_loop(end - first, needle_in_path, &m, 0);
	return m.found ? 1 : 0;
}

/*
 * Whether the task is one of the filters' processes: its own comm (what Falco's proc.name reads)
 * or its thread group leader's (what exec set for the process, which a worker thread may have
 * renamed away from).
 */
static __always_inline bool filter_comm_ships(struct task_struct *t)
{
	if (!filter_comm_count)
		return false;
	char name[LNR_COMM_LEN] = {};
	bpf_get_current_comm(name, sizeof(name));
	if (bpf_map_lookup_elem(&filter_comms, name))
		return true;
	char leader[LNR_COMM_LEN] = {};
	BPF_CORE_READ_STR_INTO(&leader, t, group_leader, comm);
	return bpf_map_lookup_elem(&filter_comms, leader) != NULL;
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

static __always_inline bool change_type_filtered(__u16 type)
{
	return change_filter_on && (change_filter_types[(type >> 5) & (LNR_TYPE_SLOTS / 32 - 1)] & (1u << (type & 31)));
}

/*
 * The user paths of a path-changing call, as its record's string slots will hold them: the one
 * path, or both of a two-path call (a symlink's target is a string, judged all the same). Returns
 * how many it set.
 */
static __always_inline int change_paths(__u16 type, __s64 a0, __s64 a1, __s64 a2, __s64 a3, const void **p0, const void **p1)
{
	switch (type) {
	case LNR_EVT_UNLINK: case LNR_EVT_RMDIR: case LNR_EVT_MKDIR: case LNR_EVT_CHMOD:
	case LNR_EVT_TRUNCATE: case LNR_EVT_CHOWN: case LNR_EVT_LCHOWN:
		*p0 = (const void *)a0;
		return 1;
	case LNR_EVT_UNLINKAT: case LNR_EVT_MKDIRAT: case LNR_EVT_FCHMODAT: case LNR_EVT_FCHOWNAT:
		*p0 = (const void *)a1;
		return 1;
	case LNR_EVT_SYMLINK: case LNR_EVT_LINK: case LNR_EVT_RENAME:
		*p0 = (const void *)a0;
		*p1 = (const void *)a1;
		return 2;
	case LNR_EVT_SYMLINKAT:
		*p0 = (const void *)a0;
		*p1 = (const void *)a2;
		return 2;
	case LNR_EVT_LINKAT: case LNR_EVT_RENAMEAT: case LNR_EVT_RENAMEAT2:
		*p0 = (const void *)a1;
		*p1 = (const void *)a3;
		return 2;
	default:
		return 0;
	}
}

/*
 * 1 = the change filter ships this call: its mode has one of the filter's bits, one of its paths
 * matches a change atom, or its task is named (a type the filter does not know ships). The user strings are read into the scratch's
 * exit copy, which the records of these types do not use. A global function, so the dispatcher's
 * verification does not multiply through its branches.
 */
__noinline int change_ships(__u32 type, __s64 a0, __s64 a1, __s64 a2, __s64 a3)
{
	/* Mode bits first: a setuid chmod ships whatever its path (the rules' flag tests). */
	__u64 mode = (type == LNR_EVT_CHMOD || type == LNR_EVT_MKDIR) ? a1 : (type == LNR_EVT_FCHMODAT || type == LNR_EVT_MKDIRAT) ? a2 : 0;
	if (mode & change_mode_mask & 07777)
		return 1;
	const void *p0 = NULL, *p1 = NULL;
	int paths = change_paths(type, a0, a1, a2, a3, &p0, &p1);
	struct lnr_scratch *s = get_scratch();
	if (paths == 0 || !s)
		return 1;
	struct lnr_stash *copy = &s->exit_copy;
	copy->len = bpf_probe_read_user_str(copy->data, STASH_STR, p0);
	if (path_ships(copy, prefix_open_end, prefix_change_end, suffix_open_end, suffix_change_end) || path_has_needle(copy, needle_open_end, needle_change_end))
		return 1;
	if (paths == 2) {
		copy->len = bpf_probe_read_user_str(copy->data, STASH_STR, p1);
		if (path_ships(copy, prefix_open_end, prefix_change_end, suffix_open_end, suffix_change_end) || path_has_needle(copy, needle_open_end, needle_change_end))
			return 1;
	}
	return filter_comm_ships(bpf_get_current_task_btf());
}

#endif /* LANNER_BPF_PATH_FILTER_H */
