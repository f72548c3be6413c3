// SPDX-License-Identifier: GPL-2.0
/* Exec details of a successful execve/execveat: argv, environment, exe path and flags, cwd. */
#ifndef LANNER_BPF_EXEC_H
#define LANNER_BPF_EXEC_H

#include <bpf/bpf_core_read.h>
#include "lib/common.h"
#include "lib/paths.h"

static __always_inline __u32 exe_flags_of(struct task_struct *t, struct file *exe)
{
	__u32 flags = 0;
	struct inode *inode = BPF_CORE_READ(exe, f_inode);
	if (!inode)
		return 0;
	struct super_block *sb = BPF_CORE_READ(inode, i_sb);
	unsigned long s_flags = BPF_CORE_READ(sb, s_flags);
	unsigned long magic = BPF_CORE_READ(sb, s_magic);
	__u32 i_flags = BPF_CORE_READ(inode, i_flags);
	__u16 mode = BPF_CORE_READ(inode, i_mode);
	const struct cred *cred = t->cred;

	/* Writable by the exec'ing user: mode bits for fsuid/fsgid, or CAP_DAC_OVERRIDE; never on a
	 * read-only superblock or an immutable inode. Supplementary groups are not checked. */
	if (!(s_flags & SB_RDONLY_) && !(i_flags & S_IMMUTABLE_)) {
		__u32 fsuid = cred->fsuid.val, fsgid = cred->fsgid.val;
		__u32 i_uid = BPF_CORE_READ(inode, i_uid.val), i_gid = BPF_CORE_READ(inode, i_gid.val);
		__u64 caps = 0;
		bpf_probe_read_kernel(&caps, sizeof(caps), &cred->cap_effective);
		bool w;
		if (fsuid == i_uid)
			w = mode & S_IWUSR_;
		else if (fsgid == i_gid)
			w = mode & S_IWGRP_;
		else
			w = mode & S_IWOTH_;
		if (w || (caps & (1ull << CAP_DAC_OVERRIDE_)))
			flags |= LNR_EXE_WRITABLE;
	}
	/* Overlayfs: the inode is embedded in struct ovl_inode whose __upperdentry is set when the file
	 * exists in the upper (container-writable) layer. */
	if (magic == OVERLAYFS_MAGIC_ && bpf_core_type_exists(struct ovl_inode)) {
		struct ovl_inode *oi = container_of(inode, struct ovl_inode, vfs_inode);
		if (BPF_CORE_READ(oi, __upperdentry))
			flags |= LNR_EXE_UPPER_LAYER;
	}
	/* memfd files live on the internal shm mount and are named "memfd:<name>". */
	char pfx[6] = {};
	bpf_probe_read_kernel(pfx, sizeof(pfx), BPF_CORE_READ(exe, f_path.dentry, d_name.name));
	if (pfx[0] == 'm' && pfx[1] == 'e' && pfx[2] == 'm' && pfx[3] == 'f' && pfx[4] == 'd' && pfx[5] == ':')
		flags |= LNR_EXE_FROM_MEMFD;
	return flags;
}

/*
 * Copies a NUL-separated user area [start, end) of the new image (argv or environment) into `slot`,
 * at most `cap` bytes (0 = skip); a cut area sets `cut_flags`. Returns the new offset.
 */
static __always_inline __u32 put_user_area(struct lnr_scratch *s, struct lnr_hdr *h, __u32 off, __u64 start, __u64 end, __u32 cap,
					   int slot, __u16 cut_flags)
{
	if (!cap || end <= start)
		return off;
	__u64 len = end - start;
	if (len > cap) {
		len = cap;
		h->flags |= cut_flags;
	}
	off = clamp_mask(off, OFF_MASK);
	len &= LNR_MAX_ARGV * 2 - 1;
	if (len > 0 && len <= LNR_MAX_ARGV && bpf_probe_read_user(&s->rec[off], len, (void *)start) == 0) {
		s->rec[clamp_mask(off + len - 1, OFF_MASK)] = 0;
		h->desc[slot].off = off;
		h->desc[slot].len = len;
		off += len;
	}
	return off;
}

static __always_inline __u32 put_exec_details(struct lnr_scratch *s, struct lnr_hdr *h, struct task_struct *t, __u32 off)
{
	struct mm_struct *mm = t->mm;
	__u32 used;

	if (!mm)
		return off;
	/* argv from the new image's arg area, NUL separated as the kernel stored it. */
	__u64 start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
	__u32 cap = cfg_max_argv > LNR_MAX_ARGV ? LNR_MAX_ARGV : cfg_max_argv;
	off = put_user_area(s, h, off, start, end, cap, LNR_SLOT_ARGV, LNR_F_TRUNCATED | LNR_F_ARGV_TRUNC);
	/* The new image's environment (Falco's proc.env: e.g. GLIBC_TUNABLES handed to a setuid
	 * binary), in str1, which exec events do not otherwise use. */
	cap = !exec_env_wanted ? 0 : cfg_max_env > LNR_MAX_ARGV ? LNR_MAX_ARGV : cfg_max_env;
	off = put_user_area(s, h, off, BPF_CORE_READ(mm, env_start), BPF_CORE_READ(mm, env_end), cap, LNR_SLOT_STR1, LNR_F_TRUNCATED);
	struct file *exe = BPF_CORE_READ(mm, exe_file);
	if (exe) {
		used = put_walked(s, h, off, walk_file_path(s, t, exe), LNR_SLOT_EXE);
		if (used) {
			/* str0 (Falco's exe/pathname param) aliases the resolved exe path. */
			h->desc[LNR_SLOT_STR0] = h->desc[LNR_SLOT_EXE];
			off += used;
		}
		h->exe_flags = exe_flags_of(t, exe);
	}
	used = put_walked(s, h, off, walk_cwd(s, t), LNR_SLOT_CWD);
	off += used;
	return off;
}

#endif /* LANNER_BPF_EXEC_H */
