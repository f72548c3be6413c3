// SPDX-License-Identifier: GPL-2.0
/*
 * Lanner kernel probe (CO-RE, tp_btf). One exit dispatcher decides per syscall id whether the
 * event is wanted (the `interesting` table, written by user space from the loaded rules), builds
 * a variable-length record in a per-CPU scratch slot and copies it into one shared ring.
 *
 * Design choices (why):
 * - Exec is reported from sys_exit of execve/execveat, not sched_process_exec: on x86-64 a
 *   successful exec returns through sys_exit in the new image, so one hook covers success and
 *   failure, passes the same filters as every other syscall, and reads argv from the new mm's
 *   arg area (stable kernel-copied data) without an entry stash.
 * - No sched_process_fork: on x86-64 the child's return from clone/fork also passes sys_exit
 *   (ret 0), so clone/fork/vfork/clone3 events exist on both sides. The child's side is always
 *   shipped; the caller's only while user space asks for it (clone_caller_wanted).
 * - sched_process_exit emits only when the whole thread group is gone (signal->live hit 0) and
 *   is never filtered or pressure-dropped: the process table frees entries on it.
 * - sys_enter runs only to copy TOCTOU-sensitive arguments (open-family paths, connect address)
 *   into task-local storage; the exit program picks them up. Task storage avoids copying a
 *   whole hash value per syscall.
 */
#include "vmlinux/x86/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

char LICENSE[] SEC("license") = "GPL";

#define PATH_DEPTH 40 /* dentry components walked before marking truncation */
#define STASH_STR 1024 /* entry stash for paths; longer paths are re-read at exit */
#define AT_FDCWD_ -100
#define TS_COMPAT_ 0x0002
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10
#define OVERLAYFS_MAGIC_ 0x794c7630
#define SB_RDONLY_ 1
#define S_IMMUTABLE_ 8
#define CAP_DAC_OVERRIDE_ 1

/* x86-64 syscall ids the entry program cares about (TOCTOU-sensitive arguments). */
#define NR_open 2
#define NR_connect 42
#define NR_creat 85
#define NR_openat 257
#define NR_openat2 437
/* The same under the ia32 numbering (compat tasks and int 0x80 from 64-bit code). */
#define NR32_open 5
#define NR32_creat 8
#define NR32_openat 295
#define NR32_connect 362
#define NR32_openat2 437

/* Set from user space before load (rodata is frozen, so the verifier folds these). */
const volatile __u32 cfg_max_str = 4096; /* incl. NUL, <= LNR_MAX_STR */
const volatile __u32 cfg_max_argv = 4096; /* <= LNR_MAX_ARGV */
const volatile __u32 cfg_max_env = 0; /* exec environment bytes; cfg_max_argv + this <= LNR_MAX_ARGV */
const volatile bool cfg_drop_failed = false;
const volatile bool cfg_close_tracked_only = true;
const volatile bool cfg_enter_hooks = true; /* lnr_sys_enter is loaded: a missing stash is a miss */
const volatile __u64 cfg_wakeup_bytes = 0; /* force a wakeup when queued data crosses this */
/* Adaptive wakeups: a record written while the reader has caught up wakes it (the kernel only
 * signals when the ring was empty before this record, so a busy reader is never woken twice).
 * Off: every record is NO_WAKEUP and the reader drains on its timer or the byte mark. */
const volatile bool cfg_adaptive_wakeup = false;
const volatile __u64 cfg_pressure_bytes = 0; /* above this, only process events are written */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 * 1024 * 1024);
} events SEC(".maps");

/* syscall id -> event type id (0 = not wanted). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_SYSCALL_TABLE);
	__type(key, __u32);
	__type(value, __u8);
} interesting SEC(".maps");

/* The agent's own processes, never reported. A short array in .bss (user space writes it through
 * the mmap'ed skeleton): a few compares cost less than a hash lookup on every event. 0 = free. */
#define SELF_MAX 8
volatile __u32 self_tgids[SELF_MAX];

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lnr_counters);
} counters SEC(".maps");

/*
 * Per-CPU scratch (ARRAY with one slot per CPU: per-CPU map values are capped at 32 KiB).
 * `rec` has room past LNR_MAX_RECORD so that a masked offset plus one maximal read stays inside.
 */
#define REC_ROOM (2 * LNR_MAX_RECORD + LNR_MAX_ARGV)
#define OFF_MASK (2 * LNR_MAX_RECORD - 1) /* any masked offset + one max read stays in rec */
#define PATH_ROOM (2 * LNR_MAX_STR)
struct lnr_stash {
	__u32 nr; /* syscall id this stash belongs to; ~0 = empty */
	__s32 len; /* bytes copied (incl. NUL for strings), <= 0 = nothing */
	__u8 data[STASH_STR];
};

struct lnr_scratch {
	__u8 rec[REC_ROOM];
	__u8 path[PATH_ROOM]; /* dentry walk writes backwards ending at LNR_MAX_STR */
	__u8 tmp[PATH_ROOM]; /* relative path held while the directory prefix is built */
	struct lnr_stash exit_copy; /* an open path read at exit, when there is no entry copy */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs at open */
	__type(key, __u32);
	__type(value, struct lnr_scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lnr_stash);
} stash SEC(".maps");

/*
 * (tgid << 32 | fd) of fds whose creating event reached user space. With cfg_close_tracked_only,
 * close is shipped only for these, since a close of an fd user space never saw changes nothing.
 * User space may add entries too (e.g. fds found by the /proc seed).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u8);
} tracked_fds SEC(".maps");

/* Masks through an opaque register so clang cannot drop the mask the verifier needs for bounds. */
static __always_inline __u32 clamp_mask(__u32 x, __u32 mask)
{
	asm volatile("" : "+r"(x));
	return x & mask;
}

/*
 * Open-path filter (see events.h): prefixes [0, open_prefix_count) of open_prefixes. The count is
 * in .bss so user space can turn the filter off with one store (count 0) before rewriting entries:
 * mid-update the filter errs towards shipping.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_OPEN_PREFIX_MAX);
	__type(key, __u32);
	__type(value, struct lnr_open_prefix);
} open_prefixes SEC(".maps");

volatile __u32 open_prefix_count;

/* Capture the environment of a successful exec (up to cfg_max_env): user space turns this on only
 * while a loaded rule reads proc.env, since reading it costs every exec a few KiB of copying. */
volatile __u32 exec_env_wanted;
/* Ship the caller's side of clone/clone3/fork/vfork (ret = the child's pid, or an error). The
 * child's own return (ret 0) is enough for the process table: it is the child's first event and
 * carries its parent. User space asks for the caller's side only while a loaded rule matches one
 * of these types, sparing a quarter of the events of a fork+exec. */
volatile __u32 clone_caller_wanted;
/* How many leading entries match any open; the rest match only opens that can write. */
volatile __u32 open_prefix_any;

/* Event types whose returned fd is remembered in tracked_fds (set from user space). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_TYPE_SLOTS);
	__type(key, __u32);
	__type(value, __u8);
} track_types SEC(".maps");

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

static __always_inline __u32 str_cap(void)
{
	__u32 cap = cfg_max_str;
	return cap > LNR_MAX_STR ? LNR_MAX_STR : cap;
}

/* ---- record header ---------------------------------------------------------------------- */

static __always_inline __u32 dev_encode(__u32 major, __u32 minor)
{
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline void fill_header(struct lnr_hdr *h, struct task_struct *t, __u16 type, __s64 ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	const struct cred *cred = t->cred;
	struct pid *pid;
	struct upid up = {};
	unsigned int level;

	h->ts_ns = bpf_ktime_get_boot_ns();
	h->type = type;
	h->flags = 0;
	h->tid = (__u32)pid_tgid;
	h->tgid = pid_tgid >> 32;
	h->ptgid = t->real_parent->tgid;
	h->cpu = bpf_get_smp_processor_id();
	h->cgroup_id = bpf_get_current_cgroup_id();
	h->ret = ret;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	h->euid = cred->euid.val;
	h->egid = cred->egid.val;
	/* Direct loads through BTF pointers compile to fault-tolerant loads (no helper call), which
	 * matters here: this runs for every emitted event. */
	h->loginuid = bpf_core_field_exists(t->loginuid) ? t->loginuid.val : 0xffffffff;
	if (bpf_core_field_exists(cred->cap_effective.val)) {
		h->cap_eff = cred->cap_effective.val;
		h->cap_prm = cred->cap_permitted.val;
	} else {
		bpf_probe_read_kernel(&h->cap_eff, sizeof(h->cap_eff), &cred->cap_effective);
		bpf_probe_read_kernel(&h->cap_prm, sizeof(h->cap_prm), &cred->cap_permitted);
	}

	pid = t->group_leader->thread_pid;
	level = pid->level;
	bpf_probe_read_kernel(&up, sizeof(up), (void *)((__u64)pid + bpf_core_field_offset(struct pid, numbers) +
						       (__u64)(level & 31) * sizeof(struct upid)));
	h->vpid = up.nr;
	h->pid_ns = up.ns ? BPF_CORE_READ(up.ns, ns.inum) : 0;
	h->mnt_ns = t->nsproxy->mnt_ns->ns.inum;

	struct tty_struct *tty = t->signal->tty;
	if (tty) {
		struct tty_driver *drv = tty->driver;
		h->tty = dev_encode(drv->major, drv->minor_start + tty->index);
	} else {
		h->tty = 0;
	}
	h->exe_flags = 0;
	bpf_get_current_comm(h->comm, sizeof(h->comm));
	__builtin_memset(h->desc, 0, sizeof(h->desc));
}

/* ---- paths -------------------------------------------------------------------------------- */

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

/* ---- socket addresses --------------------------------------------------------------------- */

static __always_inline __u32 put_user_sockaddr(struct lnr_scratch *s, struct lnr_hdr *h, __u32 off, const void *uptr, __s64 len,
					       const struct lnr_stash *st)
{
	off = clamp_mask(off, OFF_MASK);
	if (st && st->len > 0) {
		len = st->len;
		bpf_probe_read_kernel(&s->rec[off], clamp_mask(len, LNR_MAX_SOCKADDR * 2 - 1), st->data);
	} else {
		if (!uptr || len <= 0)
			return 0;
		if (len > LNR_MAX_SOCKADDR)
			len = LNR_MAX_SOCKADDR;
		if (bpf_probe_read_user(&s->rec[off], clamp_mask(len, LNR_MAX_SOCKADDR * 2 - 1), uptr))
			return 0;
	}
	if (len < 2)
		return 0;
	h->desc[LNR_SLOT_SOCKADDR].off = off;
	h->desc[LNR_SLOT_SOCKADDR].len = len;
	return len;
}

/* Peer address of a connected socket fd (accept): read from the kernel socket, not user memory. */
static __always_inline __u32 put_peer_sockaddr(struct lnr_scratch *s, struct lnr_hdr *h, struct task_struct *t, __u32 off, __s64 fd)
{
	struct file *f = fd_file(t, fd);
	struct socket *sock;
	struct sock *sk;
	__u16 family;
	__u32 len = 0;

	if (!f)
		return 0;
	sock = BPF_CORE_READ(f, private_data);
	sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	off = clamp_mask(off, OFF_MASK);
	__u8 *p = &s->rec[off];
	if (family == AF_INET_) {
		struct { __u16 family; __u16 port; __u32 addr; __u8 zero[8]; } sa = {};
		sa.family = family;
		sa.port = BPF_CORE_READ(sk, __sk_common.skc_dport);
		sa.addr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(p, &sa, sizeof(sa));
		len = sizeof(sa);
	} else if (family == AF_INET6_) {
		struct { __u16 family; __u16 port; __u32 flow; __u8 addr[16]; __u32 scope; } sa = {};
		sa.family = family;
		sa.port = BPF_CORE_READ(sk, __sk_common.skc_dport);
		BPF_CORE_READ_INTO(&sa.addr, sk, __sk_common.skc_v6_daddr);
		__builtin_memcpy(p, &sa, sizeof(sa));
		len = sizeof(sa);
	} else if (family == AF_UNIX_) {
		/* Unix peers are usually unnamed; report the family only. */
		__u16 fam = family;
		__builtin_memcpy(p, &fam, sizeof(fam));
		len = 2;
	} else {
		return 0;
	}
	h->desc[LNR_SLOT_SOCKADDR].off = off;
	h->desc[LNR_SLOT_SOCKADDR].len = len;
	return len;
}

/* ---- exec --------------------------------------------------------------------------------- */

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
			w = mode & 0200;
		else if (fsgid == i_gid)
			w = mode & 0020;
		else
			w = mode & 0002;
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

/* ---- emission ----------------------------------------------------------------------------- */

static __always_inline bool is_fork_type(__u16 type)
{
	return type == LNR_EVT_CLONE || type == LNR_EVT_CLONE3 || type == LNR_EVT_FORK || type == LNR_EVT_VFORK;
}

static __always_inline bool is_process_event(__u16 type)
{
	return type == LNR_EVT_PROCEXIT || type == LNR_EVT_EXECVE || type == LNR_EVT_EXECVEAT || is_fork_type(type);
}

static __always_inline bool emit(struct lnr_counters *c, struct lnr_scratch *s, __u32 size, __u16 type)
{
	struct lnr_hdr *h = (struct lnr_hdr *)s->rec;
	__u64 avail, flags = cfg_adaptive_wakeup ? 0 : BPF_RB_NO_WAKEUP;

	size = (size + 7) & ~7u;
	if (size > LNR_MAX_RECORD) {
		c->drop_big++;
		return false;
	}
	h->size = size;
	avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	if (cfg_pressure_bytes && avail > cfg_pressure_bytes && !is_process_event(type)) {
		c->drop_full++;
		c->drop_by_type[type & (LNR_TYPE_SLOTS - 1)]++;
		return false;
	}
	if (cfg_wakeup_bytes && avail < cfg_wakeup_bytes && avail + size + 8 >= cfg_wakeup_bytes)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, s->rec, clamp_mask(size, LNR_MAX_RECORD * 2 - 1), flags)) {
		c->drop_full++;
		c->drop_by_type[type & (LNR_TYPE_SLOTS - 1)]++;
		return false;
	}
	c->emitted++;
	return true;
}

static __always_inline bool tracks_fd(__u16 type)
{
	__u32 key = type;
	__u8 *on = bpf_map_lookup_elem(&track_types, &key);
	return on && *on;
}

/* ---- open-path filter -------------------------------------------------------------------- */

static __always_inline bool is_open_type(__u16 type)
{
	return type == LNR_EVT_OPEN || type == LNR_EVT_OPENAT || type == LNR_EVT_OPENAT2 || type == LNR_EVT_CREAT;
}

/* Path byte sequences (oldest byte highest) that make a path non-normalised. */
#define SEQ_SLASH_SLASH 0x2f2f /* "//" */
#define SEQ_DOT_SEGMENT 0x2f2e2f /* "/./" */
#define SEQ_DOTDOT_SEGMENT 0x2f2e2e2fu /* "/../" */
#define SEQ_TRAILING_DOT 0x2f2e /* "/." at the end */
#define SEQ_TRAILING_DOTDOT 0x2f2e2e /* "/.." at the end */

/*
 * 1 = ship the open whose path the entry stash holds, 0 = no prefix can match it. Anything that
 * could make a byte-prefix test wrong ships: relative paths, truncated or missing copies, paths
 * past the scan window, and '//', '.' or '..' components (user space normalises those, so
 * "/tmp/../etc/shadow" must reach it). A global function: its loops are verified once.
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
		if ((seq & 0xffff) == SEQ_SLASH_SLASH || (seq & 0xffffff) == SEQ_DOT_SEGMENT || seq == SEQ_DOTDOT_SEGMENT)
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
	return (flags & 3) != 0 || (flags & (0100 /* O_CREAT */ | 01000 /* O_TRUNC */)) != 0;
}

/* ---- programs ----------------------------------------------------------------------------- */

static __always_inline bool wants_stash(__u32 nr)
{
	return nr == NR_open || nr == NR_openat || nr == NR_openat2 || nr == NR_creat || nr == NR_connect;
}

static __always_inline bool wants_stash_ia32(__u32 nr)
{
	return nr == NR32_open || nr == NR32_openat || nr == NR32_openat2 || nr == NR32_creat || nr == NR32_connect;
}

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

SEC("tp_btf/sys_exit")
int BPF_PROG(lnr_sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *t = bpf_get_current_task_btf();
	/* ia32 syscalls (compat tasks, int 0x80) have their own numbering and half of the table. An
	 * exec reports the new image's ABI here: the kernel rewrites orig_ax and TS_COMPAT for it. */
	bool compat = is_compat(t);
	__u32 nr = regs->orig_ax;
	__u32 key = !compat ? nr : nr < LNR_IA32_BASE ? LNR_IA32_BASE + nr : LNR_SYSCALL_TABLE; /* past the end: no entry */
	__u8 *typep = bpf_map_lookup_elem(&interesting, &key);
	if (!typep || !*typep)
		return 0;
	__u16 type = *typep;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tgid = pid_tgid >> 32;
	if (is_self(tgid))
		return 0;
	if (ret != 0 && is_fork_type(type) && !clone_caller_wanted)
		return 0;

	bool stash_kind = is_open_type(type) || type == LNR_EVT_CONNECT;
	struct lnr_stash *st = NULL;
	if (stash_kind) {
		st = bpf_task_storage_get(&stash, t, NULL, 0);
		if (st && st->nr != key)
			st = NULL;
	}
	__s64 a0 = SYSCALL_ARG(regs, compat, di, bx), a1 = SYSCALL_ARG(regs, compat, si, cx), a2 = SYSCALL_ARG(regs, compat, dx, dx),
	      a3 = SYSCALL_ARG(regs, compat, r10, si), a4 = SYSCALL_ARG(regs, compat, r8, di), a5 = SYSCALL_ARG(regs, compat, r9, bp);
	struct lnr_counters *c = get_counters();
	if (!c)
		return 0;
	if (cfg_drop_failed && ret < 0) {
		if (st)
			st->nr = ~0u;
		return 0;
	}
	/* Before `seen`: a filtered open is neither shipped nor a loss, and since it is not emitted
	 * its fd never enters tracked_fds (its close stays unshipped too). */
	__u32 prefixes = open_prefix_count;
	/* The open path the filter judges and the record carries: the entry copy, or without one
	 * (entry hooks off, or a syscall that began before attach) a copy read now from user memory.
	 * The exit copy is not TOCTOU-safe (another thread may have rewritten the buffer since the
	 * kernel read it), which is the price of running without the sys_enter hook. */
	const struct lnr_stash *path_copy = st;
	struct lnr_scratch *s = NULL;
	if (prefixes && is_open_type(type)) {
		if (!st) {
			s = get_scratch();
			if (s) {
				struct lnr_stash *ec = &s->exit_copy;
				const void *upath = (type == LNR_EVT_OPEN || type == LNR_EVT_CREAT) ? (const void *)a0 : (const void *)a1;
				ec->nr = key;
				ec->len = bpf_probe_read_user_str(ec->data, STASH_STR, upath);
				path_copy = ec;
			}
		}
		/* Entries [0, open_prefix_any) match any open, the rest only opens that can write: a read
		 * compares fewer entries instead of testing a flag per entry (which the verifier's state
		 * exploration of the nested loops could not afford). */
		if (path_copy && !open_path_ships(path_copy, open_can_write(type, a1, a2) ? prefixes : open_prefix_any)) {
			c->filtered_path++;
			if (st)
				st->nr = ~0u;
			return 0;
		}
	}
	if (type == LNR_EVT_CLOSE && cfg_close_tracked_only) {
		__u64 key = ((__u64)tgid << 32) | (__u32)a0;
		if (!bpf_map_lookup_elem(&tracked_fds, &key))
			return 0;
		bpf_map_delete_elem(&tracked_fds, &key);
	}
	c->seen++;
	c->seen_by_type[type & (LNR_TYPE_SLOTS - 1)]++;
	if (cfg_enter_hooks && stash_kind && !st)
		c->stash_miss++;

	if (!s)
		s = get_scratch();
	if (!s) {
		c->drop_other++;
		return 0;
	}
	struct lnr_hdr *h = (struct lnr_hdr *)s->rec;
	fill_header(h, t, type, ret);
	h->args[0] = a0;
	h->args[1] = a1;
	h->args[2] = a2;
	h->args[3] = a3;
	h->args[4] = a4;
	h->args[5] = a5;
	if (st)
		h->flags |= LNR_F_ENTER_STASH;

	__u32 off = LNR_HDR_SIZE;
	switch (type) {
	case LNR_EVT_EXECVE:
	case LNR_EVT_EXECVEAT:
		if (ret == 0)
			off += put_exec_details(s, h, t, off) - off;
		else if (type == LNR_EVT_EXECVE)
			off += put_path(s, h, t, off, (void *)a0, NULL, AT_FDCWD_, 0, true);
		else
			off += put_path(s, h, t, off, (void *)a1, NULL, a0, 0, true);
		break;
	case LNR_EVT_OPEN:
	case LNR_EVT_CREAT:
		off += put_path(s, h, t, off, (void *)a0, path_copy, AT_FDCWD_, 0, true);
		break;
	case LNR_EVT_OPENAT:
	case LNR_EVT_OPENAT2:
		off += put_path(s, h, t, off, (void *)a1, path_copy, a0, 0, true);
		break;
	case LNR_EVT_CHDIR: case LNR_EVT_UNLINK: case LNR_EVT_MKDIR: case LNR_EVT_RMDIR:
	case LNR_EVT_CHMOD: case LNR_EVT_TRUNCATE: case LNR_EVT_CHROOT: case LNR_EVT_UMOUNT2:
		off += put_path(s, h, t, off, (void *)a0, NULL, AT_FDCWD_, 0, true);
		break;
	case LNR_EVT_MKDIRAT: case LNR_EVT_UNLINKAT: case LNR_EVT_FCHMODAT:
		off += put_path(s, h, t, off, (void *)a1, NULL, a0, 0, true);
		break;
	case LNR_EVT_SYMLINK:
		off += put_user_str(s, h, off, (void *)a0, 0);
		off += put_path(s, h, t, off, (void *)a1, NULL, AT_FDCWD_, 1, true);
		break;
	case LNR_EVT_SYMLINKAT:
		off += put_user_str(s, h, off, (void *)a0, 0);
		off += put_path(s, h, t, off, (void *)a2, NULL, a1, 1, true);
		break;
	case LNR_EVT_LINK:
	case LNR_EVT_RENAME:
		off += put_path(s, h, t, off, (void *)a0, NULL, AT_FDCWD_, 0, true);
		off += put_path(s, h, t, off, (void *)a1, NULL, AT_FDCWD_, 1, true);
		break;
	case LNR_EVT_LINKAT:
	case LNR_EVT_RENAMEAT:
	case LNR_EVT_RENAMEAT2:
		off += put_path(s, h, t, off, (void *)a1, NULL, a0, 0, true);
		off += put_path(s, h, t, off, (void *)a3, NULL, a2, 1, true);
		break;
	case LNR_EVT_MEMFD_CREATE:
		off += put_user_str(s, h, off, (void *)a0, 0);
		break;
	case LNR_EVT_MOUNT:
		off += put_path(s, h, t, off, (void *)a1, NULL, AT_FDCWD_, 0, true);
		off += put_user_str(s, h, off, (void *)a0, 1);
		break;
	case LNR_EVT_CONNECT:
		off += put_user_sockaddr(s, h, off, (void *)a1, a2, st);
		break;
	case LNR_EVT_BIND:
		off += put_user_sockaddr(s, h, off, (void *)a1, a2, NULL);
		break;
	case LNR_EVT_SENDTO:
		off += put_user_sockaddr(s, h, off, (void *)a4, a5, NULL);
		break;
	case LNR_EVT_RECVFROM:
		if (a4 && a5 && ret >= 0) {
			int alen = 0;
			bpf_probe_read_user(&alen, sizeof(alen), (void *)a5);
			off += put_user_sockaddr(s, h, off, (void *)a4, alen, NULL);
		}
		break;
	case LNR_EVT_SENDMSG:
	case LNR_EVT_RECVMSG: {
		struct user_msghdr mh = {};
		if (a1 && bpf_probe_read_user(&mh, sizeof(mh), (void *)a1) == 0 && mh.msg_name)
			off += put_user_sockaddr(s, h, off, mh.msg_name, mh.msg_namelen, NULL);
		break;
	}
	case LNR_EVT_ACCEPT:
	case LNR_EVT_ACCEPT4:
		if (ret >= 0)
			off += put_peer_sockaddr(s, h, t, off, (int)ret);
		break;
	default:
		break;
	}
	if (st)
		st->nr = ~0u;
	if (emit(c, s, off, type) && cfg_close_tracked_only && ret >= 0 && tracks_fd(type)) {
		__u64 key = ((__u64)tgid << 32) | (__u32)ret;
		__u8 one = 1;
		bpf_map_update_elem(&tracked_fds, &key, &one, BPF_ANY);
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(lnr_proc_exit, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	/* Only the last thread of the group: that is the process exit the state table frees on. */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	if (is_self(bpf_get_current_pid_tgid() >> 32))
		return 0;
	struct lnr_counters *c = get_counters();
	if (!c)
		return 0;
	c->seen++;
	c->seen_by_type[LNR_EVT_PROCEXIT]++;
	struct lnr_scratch *s = get_scratch();
	if (!s) {
		c->drop_other++;
		return 0;
	}
	struct lnr_hdr *h = (struct lnr_hdr *)s->rec;
	fill_header(h, t, LNR_EVT_PROCEXIT, BPF_CORE_READ(t, exit_code));
	__builtin_memset(h->args, 0, sizeof(h->args));
	emit(c, s, LNR_HDR_SIZE, LNR_EVT_PROCEXIT);
	return 0;
}
