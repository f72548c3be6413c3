// SPDX-License-Identifier: GPL-2.0
/*
 * ia32's socketcall multiplexer, unpacked: the call number picks the socket call it stands for
 * (its event type comes from that call's x86-64 entry in the interesting table, so a socketcall
 * ships exactly when the direct call would), and the argument array it points to, 32-bit words
 * in user memory, becomes the record's arguments. The rest of the probe then sees a connect, a
 * bind or an accept like any other.
 */
#ifndef LANNER_BPF_SOCKETCALL_H
#define LANNER_BPF_SOCKETCALL_H

#include "lib/common.h"

/* False when the call is not one the probe decodes, or its event type is not wanted. */
static __always_inline bool socketcall_unpack(__u16 *type, __s64 *a0, __s64 *a1, __s64 *a2, __s64 *a3, __s64 *a4, __s64 *a5)
{
	__u32 nr64, nargs;
	switch ((__u32)*a0) {
	case SOCKETCALL_SOCKET_: nr64 = NR_socket; nargs = 3; break;
	case SOCKETCALL_BIND_: nr64 = NR_bind; nargs = 3; break;
	case SOCKETCALL_CONNECT_: nr64 = NR_connect; nargs = 3; break;
	case SOCKETCALL_LISTEN_: nr64 = NR_listen; nargs = 2; break;
	case SOCKETCALL_ACCEPT_: nr64 = NR_accept; nargs = 3; break;
	case SOCKETCALL_SENDTO_: nr64 = NR_sendto; nargs = 6; break;
	case SOCKETCALL_RECVFROM_: nr64 = NR_recvfrom; nargs = 6; break;
	case SOCKETCALL_SENDMSG_: nr64 = NR_sendmsg; nargs = 3; break;
	case SOCKETCALL_RECVMSG_: nr64 = NR_recvmsg; nargs = 3; break;
	case SOCKETCALL_ACCEPT4_: nr64 = NR_accept4; nargs = 4; break;
	default: return false;
	}
	__u8 *t = bpf_map_lookup_elem(&interesting, &nr64);
	if (!t || !*t)
		return false;
	/* Only as many words as the call takes: the array may end at the end of a page. A failed
	 * read (the call then failed with EFAULT too) leaves the arguments zero. */
	__u32 v[8] = {};
	bpf_probe_read_user(v, clamp_mask(nargs * 4, 31), (const void *)*a1);
	*type = *t;
	*a0 = v[0];
	*a1 = v[1];
	*a2 = v[2];
	*a3 = v[3];
	*a4 = v[4];
	*a5 = v[5];
	return true;
}

#endif /* LANNER_BPF_SOCKETCALL_H */
