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
/*
 * Layout (native/README.md): one translation unit, so one BPF object and one skeleton. Shared code
 * lives in lib/ by concern (maps.h defines every map and global exactly once); each program is in
 * its own progs/<hook>.bpf.h, included here once. A new program is a new progs/ file and a line
 * below; the order of the includes is the order of the programs in the object.
 */
#include "vmlinux/x86/vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#include "progs/sys_enter.bpf.h"
#include "progs/sys_exit.bpf.h"
#include "progs/proc_exit.bpf.h"
