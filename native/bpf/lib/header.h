// SPDX-License-Identifier: GPL-2.0
/* The fixed record header (struct lnr_hdr, events.h) every event starts with. */
#ifndef LANNER_BPF_HEADER_H
#define LANNER_BPF_HEADER_H

#include <bpf/bpf_core_read.h>
#include "lib/common.h"

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

#endif /* LANNER_BPF_HEADER_H */
