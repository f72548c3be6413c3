// SPDX-License-Identifier: GPL-2.0
/*
 * Alias resolution for opens (events.h, "Alias targets"): rules name files by path, but a process
 * can reach /etc/shadow as /tmp/link, /tmp/etc-dir/shadow, a hard link or /proc/self/root/etc/shadow.
 * The opened file's inode (and, for directory targets, its directory's) is looked up in the
 * targets the rules name; a hit ships the open with the target's path whatever name was used.
 */
#ifndef LANNER_BPF_ALIAS_H
#define LANNER_BPF_ALIAS_H

#include <bpf/bpf_core_read.h>
#include "lib/common.h"
#include "lib/paths.h"

/* What an alias lookup found: the target, and whether it was the file itself (level 0). */
struct alias_hit {
	const struct lnr_alias_target *target;
	bool file_level;
};

static __always_inline const struct lnr_alias_target *alias_lookup_dentry(struct dentry *d)
{
	struct inode *inode = BPF_CORE_READ(d, d_inode);
	if (!inode)
		return NULL;
	struct lnr_alias_key key = {
		.ino = BPF_CORE_READ(inode, i_ino),
		.dev = BPF_CORE_READ(inode, i_sb, s_dev),
	};
	return bpf_map_lookup_elem(&alias_targets, &key);
}

/*
 * The target the file is, or sits under (LNR_ALIAS_DIR_LEVELS directories up, directory targets
 * only). Inode numbers identify a file across every name it has, which a path compare cannot.
 */
static __always_inline struct alias_hit alias_of(struct file *f)
{
	struct alias_hit hit = {};
	if (!f || !alias_count)
		return hit;
	struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
	if (!d)
		return hit;
	hit.target = alias_lookup_dentry(d);
	if (hit.target) {
		hit.file_level = true;
		return hit;
	}
	if (!alias_dirs)
		return hit;
	for (int i = 0; i < LNR_ALIAS_DIR_LEVELS; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		if (!parent || parent == d)
			break;
		d = parent;
		const struct lnr_alias_target *t = alias_lookup_dentry(d);
		if (t && t->dir) {
			hit.target = t;
			return hit;
		}
	}
	return hit;
}

/*
 * Whether the file a successful open returned (fd `fd`) is an alias target or sits under one. A
 * global function, verified once: the dispatcher is close to the verifier's budget. It keeps no
 * state between the filter decision and the record (state carried across the dispatcher's switch
 * defeats the verifier's pruning); an open the filter would have dropped is looked up twice.
 */
__noinline int open_reaches_alias(__s64 fd)
{
	if (fd < 0 || !alias_count)
		return 0;
	struct alias_hit hit = alias_of(fd_file(bpf_get_current_task_btf(), fd));
	return hit.target != NULL;
}

/*
 * Puts the alias path of a successful open's file in str1 and marks the record: a file target's own
 * path (a hard link has no other way back to it), else the path walked from the opened file's
 * dentry (the real directories, not the symlink the process named). Returns bytes used (0: no
 * target). Global, as above.
 */
__noinline __u32 put_open_alias(struct lnr_scratch *s, __u32 off, __s64 fd)
{
	if (!s || fd < 0 || !alias_count)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	struct file *f = fd_file(t, fd);
	struct alias_hit hit = alias_of(f);
	if (!hit.target)
		return 0;
	struct lnr_hdr *h = (struct lnr_hdr *)s->rec;
	h->flags |= LNR_F_ALIASED;
	if (hit.file_level && !hit.target->dir) {
		__u32 len = hit.target->len;
		if (len == 0 || len >= LNR_ALIAS_PATH_LEN || len + 1 > str_cap())
			return 0;
		off = clamp_mask(off, OFF_MASK);
		/* The map holds the NUL after the path; the mask only tells the verifier len < PATH_LEN. */
		bpf_probe_read_kernel(&s->rec[off], clamp_mask(len, LNR_ALIAS_PATH_LEN - 1) + 1, hit.target->path);
		h->desc[LNR_SLOT_STR1].off = off;
		h->desc[LNR_SLOT_STR1].len = len;
		return len + 1;
	}
	return put_walked(s, h, off, walk_file_path(s, t, f), LNR_SLOT_STR1);
}

#endif /* LANNER_BPF_ALIAS_H */
