// SPDX-License-Identifier: GPL-2.0
/*
 * lnr_proc_exit (tp_btf/sched_process_exit): one procexit per thread group, when its last thread
 * exits. Never filtered by the table or pressure-dropped: the process table frees entries on it.
 * Included once, from probe.bpf.c.
 */
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "lib/common.h"
#include "lib/header.h"
#include "lib/emit.h"

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
