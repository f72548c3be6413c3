// SPDX-License-Identifier: GPL-2.0
/* Socket addresses: from user memory (connect, bind, sendto, ...) or from the kernel socket (accept). */
#ifndef LANNER_BPF_SOCKADDR_H
#define LANNER_BPF_SOCKADDR_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
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

/* The head of an I/O call's payload (evt.buffer): at most LNR_SNAPLEN of the `len` bytes at uptr. */
static __always_inline __u32 put_io_data(struct lnr_scratch *s, struct lnr_hdr *h, __u32 off, const void *uptr, __s64 len)
{
	if (!uptr || len <= 0)
		return 0;
	if (len > LNR_SNAPLEN)
		len = LNR_SNAPLEN;
	off = clamp_mask(off, OFF_MASK);
	if (bpf_probe_read_user(&s->rec[off], clamp_mask(len, 127), uptr))
		return 0;
	h->desc[LNR_SLOT_DATA].off = off;
	h->desc[LNR_SLOT_DATA].len = len;
	return len;
}

/*
 * One end of an inet socket as a struct sockaddr_in/sockaddr_in6 at p: the peer, or the local end
 * (the address and port the kernel bound, which connect() picks itself when the caller did not
 * bind). Returns the bytes written, 0 when the socket is not inet.
 */
static __always_inline __u32 inet_end_sockaddr(__u8 *p, struct sock *sk, __u16 family, bool local)
{
	if (family == AF_INET_) {
		struct { __u16 family; __u16 port; __u32 addr; __u8 zero[8]; } sa = {};
		sa.family = family;
		sa.port = local ? bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num)) : BPF_CORE_READ(sk, __sk_common.skc_dport);
		sa.addr = local ? BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr) : BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(p, &sa, sizeof(sa));
		return sizeof(sa);
	}
	if (family == AF_INET6_) {
		struct { __u16 family; __u16 port; __u32 flow; __u8 addr[16]; __u32 scope; } sa = {};
		sa.family = family;
		if (local) {
			sa.port = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
			BPF_CORE_READ_INTO(&sa.addr, sk, __sk_common.skc_v6_rcv_saddr);
		} else {
			sa.port = BPF_CORE_READ(sk, __sk_common.skc_dport);
			BPF_CORE_READ_INTO(&sa.addr, sk, __sk_common.skc_v6_daddr);
		}
		__builtin_memcpy(p, &sa, sizeof(sa));
		return sizeof(sa);
	}
	return 0;
}

/* The kernel socket behind fd `fd` of the task, and its family; NULL when it is not a socket's. */
static __always_inline struct sock *fd_sock(struct task_struct *t, __s64 fd, __u16 *family)
{
	struct file *f = fd_file(t, fd);
	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT_) != S_IFSOCK_)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return NULL;
	*family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return sk;
}

/* Peer address of a connected socket fd (accept): read from the kernel socket, not user memory. */
static __always_inline __u32 put_peer_sockaddr(struct lnr_scratch *s, struct lnr_hdr *h, struct task_struct *t, __u32 off, __s64 fd)
{
	__u16 family = 0;
	struct sock *sk = fd_sock(t, fd, &family);
	__u32 len;

	if (!sk)
		return 0;
	off = clamp_mask(off, OFF_MASK);
	__u8 *p = &s->rec[off];
	if (family == AF_UNIX_) {
		/* Unix peers are usually unnamed; report the family only. */
		__builtin_memcpy(p, &family, sizeof(family));
		len = 2;
	} else {
		len = inet_end_sockaddr(p, sk, family, false);
		if (!len)
			return 0;
	}
	h->desc[LNR_SLOT_SOCKADDR].off = off;
	h->desc[LNR_SLOT_SOCKADDR].len = len;
	return len;
}

/*
 * The local end of a connected or accepted inet socket (fd `fd`) in the local-address slot: the
 * call's own arguments carry only the peer, and Falco's tuple fields (fd.cip/fd.cport on a connect,
 * fd.sip on an accept on a wildcard listener) need both ends. Global, so that the dispatcher's
 * switch does not verify it once per path. Returns bytes used.
 */
__noinline __u32 put_local_sockaddr(struct lnr_scratch *s, __u32 off, __s64 fd)
{
	if (!s || fd < 0)
		return 0;
	__u16 family = 0;
	struct sock *sk = fd_sock(bpf_get_current_task_btf(), fd, &family);
	if (!sk)
		return 0;
	off = clamp_mask(off, OFF_MASK);
	__u32 len = inet_end_sockaddr(&s->rec[off], sk, family, true);
	if (!len)
		return 0;
	struct lnr_hdr *h = (struct lnr_hdr *)s->rec;
	h->desc[LNR_SLOT_LOCAL_SOCKADDR].off = off;
	h->desc[LNR_SLOT_LOCAL_SOCKADDR].len = len;
	return len;
}

#endif /* LANNER_BPF_SOCKADDR_H */
