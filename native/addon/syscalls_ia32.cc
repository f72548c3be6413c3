// Event type id -> ia32 syscall ids, for compat tasks and `int 0x80` from 64-bit code (a known
// way around tools that only watch the x86-64 table). The numbers come from the kernel headers'
// ia32 table. Where ia32 has a 16-bit-id and a 32-bit-id variant (setuid and setuid32, chown and
// chown32), both map to the one event type: glibc uses the 32-bit ones, but the old ones still
// work and would otherwise be a way around the probe (their ids are 16 bits: 0xffff is "unchanged").
// ia32 has no plain accept: only accept4, and accept through the socketcall multiplexer, which the
// probe unpacks into the socket call it stands for (native/bpf/lib/socketcall.h): socketcall is
// listed under every socket type, so it is wanted whenever one of them is.
#include <asm/unistd_32.h>
#include <linux/net.h>

#include "../bpf/lib/kernel_defs.h"
#include "syscall_mapping.h"

namespace lanner {

// The probe's entry program tests these ia32 ids itself (native/bpf/lib/kernel_defs.h).
static_assert(NR32_open == __NR_open && NR32_creat == __NR_creat && NR32_openat == __NR_openat &&
                  NR32_openat2 == __NR_openat2 && NR32_connect == __NR_connect,
              "native/bpf/lib/kernel_defs.h disagrees with the ia32 syscall numbers");

const SyscallMapping kSyscallMapIa32[] = {
    {LNR_EVT_EXECVE, __NR_execve},
    {LNR_EVT_EXECVEAT, __NR_execveat},
    {LNR_EVT_CLONE, __NR_clone},
    {LNR_EVT_CLONE3, __NR_clone3},
    {LNR_EVT_FORK, __NR_fork},
    {LNR_EVT_VFORK, __NR_vfork},
    {LNR_EVT_OPEN, __NR_open},
    {LNR_EVT_OPENAT, __NR_openat},
    {LNR_EVT_OPENAT2, __NR_openat2},
    {LNR_EVT_CREAT, __NR_creat},
    {LNR_EVT_CLOSE, __NR_close},
    {LNR_EVT_DUP, __NR_dup},
    {LNR_EVT_DUP2, __NR_dup2},
    {LNR_EVT_DUP3, __NR_dup3},
    {LNR_EVT_FCNTL, __NR_fcntl},
    {LNR_EVT_FCNTL, __NR_fcntl64},
    {LNR_EVT_CHDIR, __NR_chdir},
    {LNR_EVT_FCHDIR, __NR_fchdir},
    {LNR_EVT_SYMLINK, __NR_symlink},
    {LNR_EVT_SYMLINKAT, __NR_symlinkat},
    {LNR_EVT_LINK, __NR_link},
    {LNR_EVT_LINKAT, __NR_linkat},
    {LNR_EVT_UNLINK, __NR_unlink},
    {LNR_EVT_UNLINKAT, __NR_unlinkat},
    {LNR_EVT_RENAME, __NR_rename},
    {LNR_EVT_RENAMEAT, __NR_renameat},
    {LNR_EVT_RENAMEAT2, __NR_renameat2},
    {LNR_EVT_MKDIR, __NR_mkdir},
    {LNR_EVT_MKDIRAT, __NR_mkdirat},
    {LNR_EVT_RMDIR, __NR_rmdir},
    {LNR_EVT_CHMOD, __NR_chmod},
    {LNR_EVT_FCHMOD, __NR_fchmod},
    {LNR_EVT_FCHMODAT, __NR_fchmodat},
#ifdef __NR_fchmodat2
    {LNR_EVT_FCHMODAT, __NR_fchmodat2},
#endif
    {LNR_EVT_TRUNCATE, __NR_truncate},
    {LNR_EVT_FTRUNCATE, __NR_ftruncate},
    {LNR_EVT_MEMFD_CREATE, __NR_memfd_create},
    {LNR_EVT_SOCKET, __NR_socket},
    {LNR_EVT_CONNECT, __NR_connect},
    {LNR_EVT_ACCEPT4, __NR_accept4},
    {LNR_EVT_BIND, __NR_bind},
    {LNR_EVT_LISTEN, __NR_listen},
    {LNR_EVT_SENDTO, __NR_sendto},
    {LNR_EVT_SENDMSG, __NR_sendmsg},
    {LNR_EVT_RECVFROM, __NR_recvfrom},
    {LNR_EVT_RECVMSG, __NR_recvmsg},
    {LNR_EVT_SETUID, __NR_setuid32},
    {LNR_EVT_SETGID, __NR_setgid32},
    {LNR_EVT_SETRESUID, __NR_setresuid32},
    {LNR_EVT_SETRESGID, __NR_setresgid32},
    {LNR_EVT_CAPSET, __NR_capset},
    {LNR_EVT_PRCTL, __NR_prctl},
    {LNR_EVT_CHROOT, __NR_chroot},
    {LNR_EVT_UNSHARE, __NR_unshare},
    {LNR_EVT_SETNS, __NR_setns},
    {LNR_EVT_MOUNT, __NR_mount},
    {LNR_EVT_UMOUNT2, __NR_umount2},
    {LNR_EVT_INIT_MODULE, __NR_init_module},
    {LNR_EVT_FINIT_MODULE, __NR_finit_module},
    {LNR_EVT_BPF, __NR_bpf},
    {LNR_EVT_USERFAULTFD, __NR_userfaultfd},
    {LNR_EVT_PTRACE, __NR_ptrace},
    {LNR_EVT_PROCESS_VM_WRITEV, __NR_process_vm_writev},
    {LNR_EVT_KILL, __NR_kill},
    // ia32's original chown family takes 16-bit ids (chown16…), the *32 ones 32-bit ids.
    {LNR_EVT_CHOWN, __NR_chown32},
    {LNR_EVT_CHOWN, __NR_chown},
    {LNR_EVT_LCHOWN, __NR_lchown32},
    {LNR_EVT_LCHOWN, __NR_lchown},
    {LNR_EVT_FCHOWN, __NR_fchown32},
    {LNR_EVT_FCHOWN, __NR_fchown},
    {LNR_EVT_FCHOWNAT, __NR_fchownat},
    // The 16-bit-id credential calls: still callable, and a way past a watcher of the *32 ones.
    {LNR_EVT_SETUID, __NR_setuid},
    {LNR_EVT_SETGID, __NR_setgid},
    {LNR_EVT_SETRESUID, __NR_setresuid},
    {LNR_EVT_SETRESGID, __NR_setresgid},
    {LNR_EVT_MPROTECT, __NR_mprotect},
    // mmap2 has mmap's arguments with the offset in pages; old_mmap (__NR_mmap) passes them in a
    // struct in memory and is not decoded.
    {LNR_EVT_MMAP, __NR_mmap2},
    {LNR_EVT_PIDFD_OPEN, __NR_pidfd_open},
    {LNR_EVT_PIDFD_GETFD, __NR_pidfd_getfd},
    {LNR_EVT_PROCESS_VM_READV, __NR_process_vm_readv},
    {LNR_EVT_KEXEC_LOAD, __NR_kexec_load},
    {LNR_EVT_KEYCTL, __NR_keyctl},
    {LNR_EVT_SETSID, __NR_setsid},
    {LNR_EVT_SETPGID, __NR_setpgid},
    {LNR_EVT_FSOPEN, __NR_fsopen},
    {LNR_EVT_FSMOUNT, __NR_fsmount},
    {LNR_EVT_MOVE_MOUNT, __NR_move_mount},
    {LNR_EVT_OPEN_BY_HANDLE_AT, __NR_open_by_handle_at},
    {LNR_EVT_IO_URING_SETUP, __NR_io_uring_setup},
    {LNR_EVT_IO_URING_ENTER, __NR_io_uring_enter},
    {LNR_EVT_IO_URING_REGISTER, __NR_io_uring_register},
    {LNR_EVT_SOCKET, __NR_socketcall},
    {LNR_EVT_CONNECT, __NR_socketcall},
    {LNR_EVT_ACCEPT, __NR_socketcall},
    {LNR_EVT_ACCEPT4, __NR_socketcall},
    {LNR_EVT_BIND, __NR_socketcall},
    {LNR_EVT_LISTEN, __NR_socketcall},
    {LNR_EVT_SENDTO, __NR_socketcall},
    {LNR_EVT_SENDMSG, __NR_socketcall},
    {LNR_EVT_RECVFROM, __NR_socketcall},
    {LNR_EVT_RECVMSG, __NR_socketcall},
};

const size_t kSyscallMapIa32Size = sizeof(kSyscallMapIa32) / sizeof(kSyscallMapIa32[0]);

static_assert(__NR_openat2 < LNR_SYSCALL_TABLE - LNR_IA32_BASE, "ia32 ids must fit the table's upper half");
static_assert(NR32_socketcall == __NR_socketcall && SOCKETCALL_SOCKET_ == SYS_SOCKET && SOCKETCALL_BIND_ == SYS_BIND &&
                  SOCKETCALL_CONNECT_ == SYS_CONNECT && SOCKETCALL_LISTEN_ == SYS_LISTEN && SOCKETCALL_ACCEPT_ == SYS_ACCEPT &&
                  SOCKETCALL_SENDTO_ == SYS_SENDTO && SOCKETCALL_RECVFROM_ == SYS_RECVFROM && SOCKETCALL_SENDMSG_ == SYS_SENDMSG &&
                  SOCKETCALL_RECVMSG_ == SYS_RECVMSG && SOCKETCALL_ACCEPT4_ == SYS_ACCEPT4,
              "native/bpf/lib/kernel_defs.h disagrees with the ia32 socketcall numbers");

}  // namespace lanner
