// SPDX-License-Identifier: GPL-2.0
/* Socket addresses: from user memory (connect, bind, sendto, ...) or from the kernel socket (accept). */
#ifndef LANNER_BPF_SOCKADDR_H
#define LANNER_BPF_SOCKADDR_H

#include <bpf/bpf_core_read.h>
#include "lib/common.h"
#include "lib/paths.h"

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

#endif /* LANNER_BPF_SOCKADDR_H */
