// SPDX-License-Identifier: GPL-2.0
/*
 * Paths: the bounded dentry walk (exe, cwd, a dirfd's directory), the fd table lookup, and the
 * path and string arguments copied into the record.
 */
#ifndef LANNER_BPF_PATHS_H
#define LANNER_BPF_PATHS_H

#include <bpf/bpf_core_read.h>
#include "lib/common.h"

#define PATH_DEPTH 40 /* dentry components walked before marking truncation */

/*
 * Writes the absolute path of (dentry, vfsmnt) into s->path so that it ends at LNR_MAX_STR, walking
 * up at most PATH_DEPTH components and crossing mounts, stopping at the task's root (so chroot and
 * container paths read as the process sees them). Returns the length (0 on failure), negative when
 * truncated. A global function: verified once, however many call sites.
 */
__noinline int walk_path(struct lnr_scratch *s, __u64 dentry_p, __u64 vfsmnt_p, __u64 root_dentry, __u64 root_mnt)
{
	struct dentry *dentry = (struct dentry *)dentry_p;
	struct vfsmount *vfsmnt = (struct vfsmount *)vfsmnt_p;
	struct mount *mnt;
	__u32 pos = LNR_MAX_STR;
	int truncated = 0;

	if (!s || !dentry || !vfsmnt)
		return 0;
	mnt = container_of(vfsmnt, struct mount, mnt);
	s->path[LNR_MAX_STR] = 0;

	for (int i = 0; i < PATH_DEPTH; i++) {
		struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
		struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

		if ((__u64)dentry == root_dentry && (__u64)vfsmnt == root_mnt)
			break;
		bool last = false;
		if (dentry == mnt_root || dentry == parent) {
			struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);
			if (dentry == mnt_root) {
				if (mnt_parent == mnt)
					break; /* the global root */
				dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
				mnt = mnt_parent;
				vfsmnt = &mnt_parent->mnt;
				continue;
			}
			/* A disconnected dentry (memfd, anonymous files): its own name is all there is. */
			last = true;
		}
		struct qstr name = BPF_CORE_READ(dentry, d_name);
		__u32 len = name.len;
		if (len == 0 || len + 1 > pos) {
			truncated = 1;
			break;
		}
		pos -= len;
		pos &= LNR_MAX_STR - 1;
		len &= LNR_MAX_STR - 1;
		bpf_probe_read_kernel(&s->path[pos], len, name.name);
		pos -= 1;
		pos &= LNR_MAX_STR - 1;
		s->path[pos] = '/';
		if (last)
			break;
		dentry = parent;
		if (i == PATH_DEPTH - 1)
			truncated = 1;
	}
	if (pos == LNR_MAX_STR) {
		pos = LNR_MAX_STR - 1;
		s->path[pos] = '/';
	}
	int len = LNR_MAX_STR - pos;
	return truncated ? -len : len;
}

/* Copies the walked path (ending at LNR_MAX_STR) into the record; returns bytes used incl. NUL. */
static __always_inline __u32 put_walked(struct lnr_scratch *s, struct lnr_hdr *h, __u32 off, int walked, int slot)
{
	__u32 len;

	if (walked < 0) {
		h->flags |= LNR_F_TRUNCATED;
		walked = -walked;
	}
	len = walked;
	if (len == 0 || len >= LNR_MAX_STR)
		return 0;
	if (len + 1 > str_cap()) {
		h->flags |= LNR_F_TRUNCATED;
		return 0;
	}
	off = clamp_mask(off, OFF_MASK);
	bpf_probe_read_kernel(&s->rec[off], clamp_mask(len + 1, LNR_MAX_STR * 2 - 1), &s->path[clamp_mask(LNR_MAX_STR - len, LNR_MAX_STR - 1)]);
	h->desc[slot].off = off;
	h->desc[slot].len = len;
	return len + 1;
}

static __always_inline int walk_file_path(struct lnr_scratch *s, struct task_struct *t, struct file *f)
{
	if (!f)
		return 0;
	struct fs_struct *fs = t->fs;
	return walk_path(s, (__u64)BPF_CORE_READ(f, f_path.dentry), (__u64)BPF_CORE_READ(f, f_path.mnt),
			 (__u64)BPF_CORE_READ(fs, root.dentry), (__u64)BPF_CORE_READ(fs, root.mnt));
}

static __always_inline int walk_cwd(struct lnr_scratch *s, struct task_struct *t)
{
	struct fs_struct *fs = t->fs;
	if (!fs)
		return 0;
	return walk_path(s, (__u64)BPF_CORE_READ(fs, pwd.dentry), (__u64)BPF_CORE_READ(fs, pwd.mnt),
			 (__u64)BPF_CORE_READ(fs, root.dentry), (__u64)BPF_CORE_READ(fs, root.mnt));
}

static __always_inline struct file *fd_file(struct task_struct *t, __s64 fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffff]);
	return f;
}

/* LNR_F_FD_CHECKED, plus LNR_F_FD_SOCKET when fd `fd` of the task is a socket (by its inode's type). */
static __always_inline __u16 fd_socket_flags(struct task_struct *t, __s64 fd)
{
	struct file *f = fd_file(t, fd);
	if (!f)
		return 0;
	__u16 mode = BPF_CORE_READ(f, f_inode, i_mode);
	return LNR_F_FD_CHECKED | ((mode & S_IFMT_) == S_IFSOCK_ ? LNR_F_FD_SOCKET : 0);
}

/*
 * Puts a path argument in `slot`: from the entry stash when given, else from user memory. A
 * relative path is joined to the directory of `dirfd` (or the cwd for AT_FDCWD) so rules see an
 * absolute path; `.`/`..` are left for the user-space decoder to normalise.
 */
static __always_inline __u32 put_path(struct lnr_scratch *s, struct lnr_hdr *h, struct task_struct *t, __u32 off,
				      const void *uptr, const struct lnr_stash *st, __s64 dirfd, int slot, bool resolve)
{
	__u32 cap = str_cap();
	long n;

	off = clamp_mask(off, OFF_MASK);
	if (st && st->len > 0 && st->len < STASH_STR) {
		n = st->len;
		bpf_probe_read_kernel(&s->rec[off], clamp_mask(n, STASH_STR - 1), st->data);
	} else {
		if (!uptr)
			return 0;
		n = bpf_probe_read_user_str(&s->rec[off], cap, uptr);
	}
	if (n <= 0)
		return 0;
	if (n >= cap)
		h->flags |= LNR_F_TRUNCATED;
	__u32 len = n - 1;

	if (!resolve || len == 0 || s->rec[off] == '/') {
		h->desc[slot & 1].off = off;
		h->desc[slot & 1].len = len;
		return n;
	}

	/* Relative: keep it in tmp, build the directory in path, then join into the record. */
	bpf_probe_read_kernel(s->tmp, clamp_mask(n, LNR_MAX_STR - 1), &s->rec[off]);
	int walked = (int)dirfd == AT_FDCWD_ ? walk_cwd(s, t) : walk_file_path(s, t, fd_file(t, (int)dirfd));
	if (walked < 0) {
		h->flags |= LNR_F_TRUNCATED;
		walked = -walked;
	}
	__u32 dlen = walked;
	if (dlen == 0 || dlen >= LNR_MAX_STR) {
		h->desc[slot & 1].off = off;
		h->desc[slot & 1].len = len;
		return n;
	}
	__u32 total = dlen + 1 + len; /* dir + '/' + rel */
	if (dlen == 1)
		total = 1 + len; /* dir is "/" */
	if (total + 1 > cap) {
		h->flags |= LNR_F_TRUNCATED;
		h->desc[slot & 1].off = off;
		h->desc[slot & 1].len = len;
		return n;
	}
	bpf_probe_read_kernel(&s->rec[off], clamp_mask(dlen, LNR_MAX_STR - 1), &s->path[clamp_mask(LNR_MAX_STR - dlen, LNR_MAX_STR - 1)]);
	__u32 p = off + dlen;
	if (dlen != 1) {
		s->rec[clamp_mask(p, OFF_MASK)] = '/';
		p += 1;
	}
	bpf_probe_read_kernel(&s->rec[clamp_mask(p, OFF_MASK)], clamp_mask(len + 1, LNR_MAX_STR - 1), s->tmp);
	h->desc[slot & 1].off = off;
	h->desc[slot & 1].len = total;
	return total + 1;
}

static __always_inline __u32 put_user_str(struct lnr_scratch *s, struct lnr_hdr *h, __u32 off, const void *uptr, int slot)
{
	__u32 cap = str_cap();
	long n;

	if (!uptr)
		return 0;
	off = clamp_mask(off, OFF_MASK);
	n = bpf_probe_read_user_str(&s->rec[off], cap, uptr);
	if (n <= 0)
		return 0;
	if (n >= cap)
		h->flags |= LNR_F_TRUNCATED;
	h->desc[slot & 1].off = off;
	h->desc[slot & 1].len = n - 1;
	return n;
}

#endif /* LANNER_BPF_PATHS_H */
