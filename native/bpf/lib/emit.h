// SPDX-License-Identifier: GPL-2.0
/* Emission: pressure and wakeup policy, the ring write, and the fd-tracking types. */
#ifndef LANNER_BPF_EMIT_H
#define LANNER_BPF_EMIT_H

#include "lib/common.h"

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
	__u64 avail, flags = cfg_adaptive_wakeup || reader_parked ? 0 : BPF_RB_NO_WAKEUP;

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

#endif /* LANNER_BPF_EMIT_H */
