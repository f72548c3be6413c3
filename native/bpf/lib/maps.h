// SPDX-License-Identifier: GPL-2.0
/*
 * Everything the probe shares with user space: the load-time configuration (.rodata), the control
 * words user space writes at run time through the mmap'ed skeleton (.bss), and every map. Defined
 * here once for the one translation unit (probe.bpf.c); the skeleton (probe.skel.h) names them as
 * they are spelled here.
 */
#ifndef LANNER_BPF_MAPS_H
#define LANNER_BPF_MAPS_H

#include "vmlinux/x86/vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "events.h"

#define STASH_STR 1024 /* entry stash for paths; longer paths are re-read at exit */

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


/*
 * Path filters (see events.h). Atoms live in two arrays, each in three ranges:
 *   [0, *_open_any)              any open
 *   [*_open_any, *_open_end)     opens that can write
 *   [*_open_end, *_change_end)   path changes of the types in change_filter_types
 * and the names in filter_comms serve both. The switches are in .bss so user space can turn a
 * filter off with one store before rewriting entries: mid-update a filter errs towards shipping.
 */
volatile __u32 open_filter_on;
volatile __u32 change_filter_on;
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LNR_FILTER_COMM_MAX);
	__type(key, char[LNR_COMM_LEN]);
	__type(value, __u8);
} filter_comms SEC(".maps");
volatile __u32 filter_comm_count;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_PATH_PREFIX_MAX);
	__type(key, __u32);
	__type(value, struct lnr_path_prefix);
} path_prefixes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_PATH_SUFFIX_MAX);
	__type(key, __u32);
	__type(value, struct lnr_path_suffix);
} path_suffixes SEC(".maps");

/* Substrings: [0, needle_open_end) for opens that can write, [needle_open_end, needle_change_end) for path changes. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_PATH_NEEDLE_MAX);
	__type(key, __u32);
	__type(value, struct lnr_path_suffix);
} path_needles SEC(".maps");
volatile __u32 needle_open_end, needle_change_end;

volatile __u32 prefix_open_any, prefix_open_end, prefix_change_end;
volatile __u32 suffix_open_any, suffix_open_end, suffix_change_end;
/* Change filter: a chmod, fchmodat, mkdir or mkdirat whose mode has one of these bits ships. */
volatile __u32 change_mode_mask;
/* Event types (bit per type id) whose paths the change filter judges; the others ship. */
volatile __u32 change_filter_types[LNR_TYPE_SLOTS / 32];

/* Capture the environment of a successful exec (up to cfg_max_env): user space turns this on only
 * while a loaded rule reads proc.env, since reading it costs every exec a few KiB of copying. */
volatile __u32 exec_env_wanted;
/* Ship the caller's side of clone/clone3/fork/vfork (ret = the child's pid, or an error). The
 * child's own return (ret 0) is enough for the process table: it is the child's first event and
 * carries its parent. User space asks for the caller's side only while a loaded rule matches one
 * of these types, sparing a quarter of the events of a fork+exec. */
volatile __u32 clone_caller_wanted;
/* The polled reader has parked (an idle ring: its timer is off and it waits on the ring's fd), so
 * records ask for a wakeup; the kernel signals only the first after the reader caught up. Set and
 * cleared by user space (native/addon/ring_delivery.cc). */
volatile __u32 reader_parked;

/* Alias targets (events.h): inode -> target; alias_count (files + dirs) and alias_dirs gate the
 * lookups, so an empty set costs an open nothing and a set without directories one lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LNR_ALIAS_MAX);
	__type(key, struct lnr_alias_key);
	__type(value, struct lnr_alias_target);
} alias_targets SEC(".maps");
volatile __u32 alias_count;
volatile __u32 alias_dirs;

/* Event types whose returned fd is remembered in tracked_fds (set from user space). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LNR_TYPE_SLOTS);
	__type(key, __u32);
	__type(value, __u8);
} track_types SEC(".maps");

/*
 * Enforcement (lib/enforce.h), all in .bss so user space writes it through the mmap'ed skeleton.
 * kill_on is cleared before the tables are rewritten and set after, so a half-written table is
 * never used. kill_path_words hold each path zero-padded, 8 bytes per word.
 */
volatile __u32 kill_on;
volatile __u32 kill_path_count;
volatile __u64 kill_path_words[LNR_KILL_PATH_MAX][LNR_KILL_PATH_LEN / 8];
volatile __u32 kill_path_len[LNR_KILL_PATH_MAX];
volatile __u8 kill_path_exact[LNR_KILL_PATH_MAX]; /* 1: the whole path, 0: a prefix */
volatile __u8 kill_path_rule[LNR_KILL_PATH_MAX]; /* index into the kill_rule_* tables */
/* Per rule: which open types (bit = LNR_KILL_TYPE_*), which access it needs (bit 0 read, bit 1
 * write), which names exempt a task, the rate limit (GCRA: the next allowed time and the burst
 * tolerance), and counters user space reads at scrape time. */
volatile __u8 kill_rule_types[LNR_KILL_RULE_MAX];
volatile __u8 kill_rule_access[LNR_KILL_RULE_MAX];
volatile __u32 kill_rule_exempt[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_interval_ns[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_tolerance_ns[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_tat[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_killed[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_refused[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_limited[LNR_KILL_RULE_MAX];
volatile __u64 kill_rule_failed[LNR_KILL_RULE_MAX];
/* Comm patterns: the first kill_name_len[i] bytes of the 16-byte zero-padded comm (16: the
 * exact name). kill_protected is the mask of the protected ones. */
volatile __u64 kill_name_words[LNR_KILL_NAME_MAX][2];
volatile __u8 kill_name_len[LNR_KILL_NAME_MAX];
volatile __u32 kill_protected;

/* An alias target's path held where the enforcement check can read it as a path copy. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lnr_stash);
} kill_path_copy SEC(".maps");

#endif /* LANNER_BPF_MAPS_H */
