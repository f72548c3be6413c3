// SPDX-License-Identifier: GPL-2.0
/*
 * Enforcement at a successful open's exit (src/enforce/ compiles the tables in lib/maps.h from the
 * rules with `actions: [kill]` whose condition the kernel can evaluate exactly). A match sends
 * SIGKILL to the task's process: the signal is pending before the syscall returns, and the kernel
 * handles it on the way back to user space, so the task never runs another instruction with the fd.
 *
 * The check only says "matches" when user space would say so too: the judged path is the name the
 * rules see (fd.name): the alias target's path (or the path walked under a directory target) when
 * the open reached one, else the path as passed, and only when it is absolute and user space keeps
 * it as it is (no `//`, `.` or `..` component, no trailing `/`; relative paths are resolved against
 * a directory the kernel does not compare).
 * Everything the kernel cannot judge is left to user space, which kills after the alert.
 */
#ifndef LANNER_BPF_ENFORCE_H
#define LANNER_BPF_ENFORCE_H

#include <bpf/bpf_core_read.h>
#include "lib/common.h"
#include "lib/path_filter.h"
#include "lib/alias.h"

/* Access bits an open has (kill_rule_access asks for them); openat2 keeps its flags in user memory. */
#define KILL_ACCESS_READ 0x1
#define KILL_ACCESS_WRITE 0x2
#define KILL_ACCESS_UNKNOWN 0x4
#define KILL_ACCESS_NOT_DIR 0x8 /* no O_DIRECTORY: the fd's type is a file (fd.typechar = f) */
/* Paths longer than this are never judged (the normalisation scan stops here). */
#define KILL_PATH_WINDOW 256

static __always_inline __u32 kill_open_access(__u16 type, __u64 a1, __u64 a2)
{
	__u64 flags;
	if (type == LNR_EVT_CREAT)
		return KILL_ACCESS_WRITE | KILL_ACCESS_NOT_DIR;
	if (type == LNR_EVT_OPEN)
		flags = a1;
	else if (type == LNR_EVT_OPENAT)
		flags = a2;
	else
		return KILL_ACCESS_UNKNOWN;
	__u32 acc = flags & O_ACCMODE_;
	return (acc == 0 || acc == 2 ? KILL_ACCESS_READ : 0) | (acc == 1 || acc == 2 ? KILL_ACCESS_WRITE : 0) |
	       (flags & O_DIRECTORY_ ? 0 : KILL_ACCESS_NOT_DIR);
}

/* Whether the first kill_name_len[i] bytes of a zero-padded comm equal name i. */
static __always_inline bool kill_name_is(__u32 i, const __u64 *comm)
{
	__u32 n = kill_name_len[i];
	if (n == 0 || n > LNR_COMM_LEN)
		return false;
	__u64 d0 = comm[0] ^ kill_name_words[i][0];
	if (n < 8)
		d0 &= (1ull << (n * 8)) - 1;
	if (d0)
		return false;
	if (n <= 8)
		return true;
	__u64 d1 = comm[1] ^ kill_name_words[i][1];
	if (n < 16)
		d1 &= (1ull << ((n - 8) * 8)) - 1;
	return d1 == 0;
}

/* The names (a mask over kill_name_*) the current task's comm or its thread group leader's
 * matches. Either counts, so an exemption or a protection errs towards not killing. A global
 * function: computed once per decision, verified once. */
__noinline __u32 kill_names_held(void)
{
	char comm[LNR_COMM_LEN] __attribute__((aligned(8))) = {};
	char leader[LNR_COMM_LEN] __attribute__((aligned(8))) = {};
	struct task_struct *t = bpf_get_current_task_btf();
	bpf_get_current_comm(comm, sizeof(comm));
	BPF_CORE_READ_STR_INTO(&leader, t, group_leader, comm);
	__u32 held = 0;
	for (__u32 i = 0; i < LNR_KILL_NAME_MAX; i++)
		if (kill_name_is(i, (const __u64 *)comm) || kill_name_is(i, (const __u64 *)leader))
			held |= 1u << i;
	return held;
}

/*
 * The rule (index + 1) whose path, open type and access this open matches, and none of whose
 * exempted names the task holds (`held`, from kill_names_held); 0 = none. A global function: its loops are verified once.
 */
__noinline int kill_rule_for(const struct lnr_stash *st, __u32 type_bit, __u32 access, __u32 held)
{
	if (!st)
		return 0;
	__s32 n = st->len; /* incl. NUL */
	if (n <= 1 || n > KILL_PATH_WINDOW || st->data[0] != '/')
		return 0;
	/* Only a path user space keeps as it is (decoder.ts normalizePath): no '//', no '.' or '..'
	 * component, and no trailing '/' (which normalisation drops from a path with a '/.' in it). */
	__u32 seq = 0;
	for (int i = 0; i < KILL_PATH_WINDOW; i++) {
		__u8 ch = st->data[i];
		if (ch == 0) {
			if ((seq & 0xff) == '/' || (seq & 0xffff) == SEQ_TRAILING_DOT || (seq & 0xffffff) == SEQ_TRAILING_DOTDOT)
				return 0;
			break;
		}
		seq = (seq << 8) | ch;
		if ((seq & 0xffff) == SEQ_SLASH_SLASH || (seq & 0xffffff) == SEQ_DOT_SEGMENT || (seq & 0xffffffff) == 0x2f2e2e2f /* "/../" */)
			return 0;
	}
	const __u64 *path = (const __u64 *)st->data;
	__u32 path_len = n - 1;
	for (__u32 i = 0; i < LNR_KILL_PATH_MAX; i++) {
		if (i >= kill_path_count)
			break;
		__u32 len = kill_path_len[i];
		if (len == 0 || len > LNR_KILL_PATH_LEN || len > path_len || (kill_path_exact[i] && len != path_len))
			continue;
		if (!words_equal(path, kill_path_words[i], len, LNR_KILL_PATH_LEN / 8))
			continue;
		__u32 r = kill_path_rule[i] & (LNR_KILL_RULE_MAX - 1);
		__u32 want = kill_rule_access[r];
		if (!(kill_rule_types[r] & type_bit))
			continue;
		if (want && ((access & KILL_ACCESS_UNKNOWN) || (access & want) != want))
			continue;
		if (kill_rule_exempt[r] & held)
			continue;
		return r + 1;
	}
	return 0;
}

/* GCRA: one word per rule, the earliest time the next kill is allowed without burst. Updated
 * without a lock: two CPUs racing can each kill once more than the burst allows. */
static __always_inline bool kill_rate_allows(__u32 r)
{
	__u64 interval = kill_rule_interval_ns[r];
	if (!interval)
		return true;
	__u64 now = bpf_ktime_get_ns();
	__u64 tat = kill_rule_tat[r];
	if (tat < now)
		tat = now;
	if (tat - now > kill_rule_tolerance_ns[r])
		return false;
	kill_rule_tat[r] = tat + interval;
	return true;
}

/*
 * The decision for a successful open (fd `ret`) whose path as passed is `path_copy`: the LNR_F_KILL*
 * flags for its record. The path judged is the one the record gives user space as fd.name: for an
 * open that reached an alias target (looked up again here, so the dispatcher carries no state into
 * this call), the file target's path, or under a directory target the path walked from the file's
 * dentry; else the path as passed. A global function, verified once, so the dispatcher's own
 * verification (close to the verifier's budget) grows by a call only.
 */
__noinline int kill_decide(const struct lnr_stash *path_copy, __u32 type, __u64 a1, __u64 a2, __s64 ret)
{
	if (!path_copy)
		return 0;
	struct task_struct *t = bpf_get_current_task_btf();
	const struct lnr_stash *judged = path_copy;
	if (alias_count) {
		struct alias_hit hit = alias_of(fd_file(t, ret));
		if (hit.target) {
			__u32 zero = 0;
			struct lnr_stash *c = bpf_map_lookup_elem(&kill_path_copy, &zero);
			if (!c)
				return 0;
			if (hit.file_level && !hit.target->dir) {
				__u32 len = hit.target->len;
				if (len == 0 || len >= LNR_ALIAS_PATH_LEN)
					return 0;
				bpf_probe_read_kernel(c->data, clamp_mask(len, LNR_ALIAS_PATH_LEN - 1) + 1, hit.target->path);
				c->len = len + 1;
			} else {
				/* Under a directory target the record's name is the path walked from the file's
				 * dentry (put_alias_path): walk it the same way. */
				struct lnr_scratch *s = get_scratch();
				int walked = s ? walk_file_path(s, t, fd_file(t, ret)) : 0;
				if (walked <= 0 || walked >= KILL_PATH_WINDOW)
					return 0;
				__u32 len = walked;
				bpf_probe_read_kernel(c->data, clamp_mask(len, KILL_PATH_WINDOW - 1) + 1,
						      &s->path[clamp_mask(LNR_MAX_STR - len, LNR_MAX_STR - 1)]);
				c->len = len + 1;
			}
			judged = c;
		}
	}
	__u32 held = kill_names_held();
	int rule = kill_rule_for(judged, 1u << ((type - LNR_EVT_OPEN) & 7), kill_open_access(type, a1, a2), held);
	if (rule <= 0)
		return 0;
	__u32 r = (rule - 1) & (LNR_KILL_RULE_MAX - 1);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	/* Safeguards: pid 1, kernel threads, the agent's children (the agent itself never gets here:
	 * its threads are skipped first) and the protected names. */
	if (tgid == 1 || (BPF_CORE_READ(t, flags) & PF_KTHREAD_) || is_self(BPF_CORE_READ(t, real_parent, tgid)) ||
	    (kill_protected & held)) {
		__sync_fetch_and_add(&kill_rule_refused[r], 1);
		return LNR_F_KILL_HELD;
	}
	if (!kill_rate_allows(r)) {
		__sync_fetch_and_add(&kill_rule_limited[r], 1);
		return LNR_F_KILL_HELD;
	}
	if (bpf_send_signal(SIGKILL_) != 0) {
		__sync_fetch_and_add(&kill_rule_failed[r], 1);
		return LNR_F_KILL_FAILED;
	}
	__sync_fetch_and_add(&kill_rule_killed[r], 1);
	return LNR_F_KILLED;
}

#endif /* LANNER_BPF_ENFORCE_H */
