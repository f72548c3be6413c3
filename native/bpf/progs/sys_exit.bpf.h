// SPDX-License-Identifier: GPL-2.0
/*
 * lnr_sys_exit (tp_btf/sys_exit): the dispatcher. Syscall id -> event type through `interesting`,
 * then self-exclusion, the caller's side of clones, failed calls, the path filters and tracked
 * closes decide whether the event ships; the record is built in the per-CPU scratch and emitted.
 * Included once, from probe.bpf.c.
 */
#include <bpf/bpf_tracing.h>
#include "lib/common.h"
#include "lib/header.h"
#include "lib/paths.h"
#include "lib/sockaddr.h"
#include "lib/exec.h"
#include "lib/emit.h"
#include "lib/path_filter.h"
#include "lib/alias.h"
#include "lib/enforce.h"
#include "lib/mem_exec.h"
#include "lib/socketcall.h"

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
	/* ia32 socketcall: becomes the socket call it stands for (lib/socketcall.h). */
	if (compat && nr == NR32_socketcall && !socketcall_unpack(&type, &a0, &a1, &a2, &a3, &a4, &a5))
		return 0;
	struct lnr_counters *c = get_counters();
	if (!c)
		return 0;
	if (cfg_drop_failed && ret < 0) {
		if (st)
			st->nr = ~0u;
		return 0;
	}
	/* Before `seen`: a filtered open is neither shipped nor a loss, and since it is not emitted
	 * its fd never enters tracked_fds (its close stays unshipped too).
	 * The open path the filter judges and the record carries: the entry copy, or without one
	 * (entry hooks off, or a syscall that began before attach) a copy read now from user memory.
	 * The exit copy is not TOCTOU-safe (another thread may have rewritten the buffer since the
	 * kernel read it), which is the price of running without the sys_enter hook. */
	const struct lnr_stash *path_copy = st;
	struct lnr_scratch *s = NULL;
	if (open_filter_on && is_open_type(type)) {
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
		/* Entries [0, *_open_any) match any open, the rest of the open range only opens that can
		 * write: a read compares fewer entries instead of testing a flag per entry (which the
		 * verifier's state exploration of the nested loops could not afford). */
		bool writes = open_can_write(type, a1, a2);
		if (path_copy &&
		    !path_ships(path_copy, 0, writes ? prefix_open_end : prefix_open_any, 0, writes ? suffix_open_end : suffix_open_any) &&
		    !(writes && path_has_needle(path_copy, 0, needle_open_end)) && !filter_comm_ships(t) && !open_reaches_alias(ret)) {
			c->filtered_path++;
			if (st)
				st->nr = ~0u;
			return 0;
		}
	} else if (change_type_filtered(type) && !change_ships(type, a0, a1, a2, a3)) {
		c->filtered_path++;
		return 0;
	}
	if (type == LNR_EVT_CLOSE && cfg_close_tracked_only) {
		__u64 key = ((__u64)tgid << 32) | (__u32)a0;
		if (!bpf_map_lookup_elem(&tracked_fds, &key))
			return 0;
		bpf_map_delete_elem(&tracked_fds, &key);
	}
	/* Memory-protection calls ship only when they make memory executable (lib/mem_exec.h). */
	if (!mem_exec_ships(type, a2, a3))
		return 0;
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
	/* dup family: say whether the new fd is a socket, from its inode (events.h, LNR_F_FD_*). */
	if ((type == LNR_EVT_DUP || type == LNR_EVT_DUP2 || type == LNR_EVT_DUP3) && ret >= 0)
		h->flags |= fd_socket_flags(t, ret);
	/* Enforcement (lib/enforce.h): the open ships; a kill rule's match sends SIGKILL now, before
	 * the syscall returns, and the record says what was done. */
	if (kill_on && ret >= 0 && path_copy && is_open_type(type))
		h->flags |= kill_decide(path_copy, type, a1, a2, ret);

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
		off += put_io_data(s, h, off, (void *)a1, ret);
		break;
	case LNR_EVT_RECVFROM:
		off += put_io_data(s, h, off, (void *)a1, ret);
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
	case LNR_EVT_CHOWN:
	case LNR_EVT_LCHOWN:
		off += put_path(s, h, t, off, (void *)a0, NULL, AT_FDCWD_, 0, true);
		break;
	case LNR_EVT_FCHOWNAT:
		off += put_path(s, h, t, off, (void *)a1, NULL, a0, 0, true);
		/* AT_EMPTY_PATH with "": the call acts on the dirfd's own file, so that is the path. */
		if (h->desc[0].len == 0 && (a4 & AT_EMPTY_PATH_))
			off += put_walked(s, h, off, walk_file_path(s, t, fd_file(t, (int)a0)), 0);
		break;
	case LNR_EVT_FCHOWN:
		/* Not a libsinsp parameter, but what the call changed: rules and posture need the path
		 * even for an fd opened before the agent started. */
		off += put_walked(s, h, off, walk_file_path(s, t, fd_file(t, (int)a0)), 0);
		break;
	case LNR_EVT_OPEN_BY_HANDLE_AT:
		if (ret >= 0)
			off += put_walked(s, h, off, walk_file_path(s, t, fd_file(t, ret)), 0);
		break;
	case LNR_EVT_KEXEC_FILE_LOAD:
		off += put_user_str(s, h, off, (void *)a3, 0);
		break;
	case LNR_EVT_FSOPEN:
		off += put_user_str(s, h, off, (void *)a0, 0);
		break;
	case LNR_EVT_MOVE_MOUNT:
		off += put_path(s, h, t, off, (void *)a1, NULL, a0, 0, true);
		off += put_path(s, h, t, off, (void *)a3, NULL, a2, 1, true);
		break;
	case LNR_EVT_IO_URING_SETUP: {
		/* The head of struct io_uring_params as the kernel filled it in: sq_entries, cq_entries,
		 * flags, sq_thread_cpu, sq_thread_idle, features. The call has two arguments, so the
		 * free argument slots carry what rules ask about (events.h). */
		__u32 params[6] = {};
		h->args[2] = h->args[3] = h->args[4] = h->args[5] = 0;
		if (ret >= 0 && a1 && bpf_probe_read_user(params, sizeof(params), (void *)a1) == 0) {
			h->args[2] = params[2];
			h->args[3] = params[0];
			h->args[4] = params[1];
			h->args[5] = params[5];
		}
		break;
	}
	default:
		break;
	}
	/* An open that reached a file the rules name by another name: that name in str1 (lib/alias.h). */
	if (is_open_type(type))
		off += put_open_alias(s, off, ret);
	/* A connected or accepted socket: its local end, which the call's arguments do not carry. */
	else if (type == LNR_EVT_CONNECT || type == LNR_EVT_ACCEPT || type == LNR_EVT_ACCEPT4)
		off += put_local_sockaddr(s, off, type == LNR_EVT_CONNECT ? a0 : ret);
	if (st)
		st->nr = ~0u;
	if (emit(c, s, off, type) && cfg_close_tracked_only && ret >= 0 && tracks_fd(type)) {
		__u64 key = ((__u64)tgid << 32) | (__u32)ret;
		__u8 one = 1;
		bpf_map_update_elem(&tracked_fds, &key, &one, BPF_ANY);
	}
	return 0;
}
