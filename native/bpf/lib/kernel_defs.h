// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel facts the probe needs that vmlinux.h cannot give (BTF carries types, not macros): every
 * constant and syscall number the probe compares against, each with where it comes from. Values
 * are those of x86-64 Linux (the only target, -D__TARGET_ARCH_x86) and are stable uapi/ABI.
 * The trailing underscore keeps them apart from the uapi macro of the same name, should a header
 * ever bring it in. Plain #defines only, so C++ can include this too: the addon checks the syscall
 * numbers against the system headers it builds its tables from (syscalls.h, syscalls_ia32.cc).
 */
#ifndef LANNER_BPF_KERNEL_DEFS_H
#define LANNER_BPF_KERNEL_DEFS_H

/* include/uapi/linux/fcntl.h: the dirfd meaning "relative to the cwd". */
#define AT_FDCWD_ -100

/* include/uapi/asm-generic/fcntl.h (x86 uses the generic values), octal as there. */
#define O_ACCMODE_ 00000003 /* O_WRONLY 1, O_RDWR 2: any set bit means write access */
#define O_CREAT_ 00000100
#define O_TRUNC_ 00001000
#define O_DIRECTORY_ 00200000

/* include/uapi/linux/stat.h: write permission bits of i_mode. */
#define S_IWUSR_ 00200
#define S_IWGRP_ 00020
#define S_IWOTH_ 00002
/* The file type bits of i_mode, and the socket type. */
#define S_IFMT_ 00170000
#define S_IFSOCK_ 0140000

/* include/linux/socket.h: address families. */
#define AF_UNIX_ 1
#define AF_INET_ 2
#define AF_INET6_ 10

/* include/uapi/linux/capability.h: capability bit numbers. */
#define CAP_DAC_OVERRIDE_ 1

/* include/uapi/linux/magic.h: super_block.s_magic of overlayfs. */
#define OVERLAYFS_MAGIC_ 0x794c7630
/* include/linux/fs.h: super_block.s_flags and inode.i_flags bits. */
#define SB_RDONLY_ 1
#define S_IMMUTABLE_ 8

/* include/linux/sched.h: task_struct.flags bit of kernel threads. */
#define PF_KTHREAD_ 0x00200000
/* include/uapi/asm-generic/signal.h */
#define SIGKILL_ 9

/* arch/x86/include/asm/thread_info.h: thread_info.status bit set while a compat (ia32) syscall
 * runs, on compat tasks and for int 0x80 from 64-bit code. */
#define TS_COMPAT_ 0x0002

/*
 * Syscall ids the entry program cares about (TOCTOU-sensitive arguments).
 * x86-64: arch/x86/entry/syscalls/syscall_64.tbl (<asm/unistd_64.h>, glibc's SYS_*).
 */
#define NR_open 2
#define NR_connect 42
#define NR_creat 85
#define NR_openat 257
#define NR_openat2 437
/* The same under the ia32 numbering (compat tasks and int 0x80 from 64-bit code):
 * arch/x86/entry/syscalls/syscall_32.tbl (<asm/unistd_32.h>). */
#define NR32_open 5
#define NR32_creat 8
#define NR32_openat 295
#define NR32_connect 362
#define NR32_openat2 437

/* include/uapi/asm-generic/mman-common.h: mmap/mprotect protection and mapping bits. */
#define PROT_WRITE_ 0x2
#define PROT_EXEC_ 0x4
#define MAP_ANONYMOUS_ 0x20
/* fs/fcntl.h: fchownat's "the dirfd itself" flag. */
#define AT_EMPTY_PATH_ 0x1000

/*
 * ia32's socketcall(call, args): one syscall for every socket call (include/uapi/linux/net.h
 * numbers the calls). The probe reports it as the call it stands for, under that call's x86-64
 * id in the interesting table (whose halves share event types).
 */
#define NR32_socketcall 102
#define SOCKETCALL_SOCKET_ 1
#define SOCKETCALL_BIND_ 2
#define SOCKETCALL_CONNECT_ 3
#define SOCKETCALL_LISTEN_ 4
#define SOCKETCALL_ACCEPT_ 5
#define SOCKETCALL_SENDTO_ 11
#define SOCKETCALL_RECVFROM_ 12
#define SOCKETCALL_SENDMSG_ 16
#define SOCKETCALL_RECVMSG_ 17
#define SOCKETCALL_ACCEPT4_ 18
#define NR_socket 41
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_bind 49
#define NR_listen 50
#define NR_accept4 288

#endif /* LANNER_BPF_KERNEL_DEFS_H */
