// Event type id -> x86-64 syscall ids. The kernel's `interesting` table is indexed by syscall id;
// user space speaks event types, so this and syscalls_ia32.cc are the places that know the
// numbering.
#pragma once
#include <sys/syscall.h>

#include <cstdint>

#include "../bpf/lib/kernel_defs.h"
#include "syscall_mapping.h"

namespace lanner {

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

inline constexpr SyscallMapping kSyscallMap[] = {
    {LNR_EVT_EXECVE, SYS_execve},
    {LNR_EVT_EXECVEAT, SYS_execveat},
    {LNR_EVT_CLONE, SYS_clone},
    {LNR_EVT_CLONE3, SYS_clone3},
    {LNR_EVT_FORK, SYS_fork},
    {LNR_EVT_VFORK, SYS_vfork},
    {LNR_EVT_OPEN, SYS_open},
    {LNR_EVT_OPENAT, SYS_openat},
    {LNR_EVT_OPENAT2, SYS_openat2},
    {LNR_EVT_CREAT, SYS_creat},
    {LNR_EVT_CLOSE, SYS_close},
    {LNR_EVT_DUP, SYS_dup},
    {LNR_EVT_DUP2, SYS_dup2},
    {LNR_EVT_DUP3, SYS_dup3},
    {LNR_EVT_FCNTL, SYS_fcntl},
    {LNR_EVT_CHDIR, SYS_chdir},
    {LNR_EVT_FCHDIR, SYS_fchdir},
    {LNR_EVT_SYMLINK, SYS_symlink},
    {LNR_EVT_SYMLINKAT, SYS_symlinkat},
    {LNR_EVT_LINK, SYS_link},
    {LNR_EVT_LINKAT, SYS_linkat},
    {LNR_EVT_UNLINK, SYS_unlink},
    {LNR_EVT_UNLINKAT, SYS_unlinkat},
    {LNR_EVT_RENAME, SYS_rename},
    {LNR_EVT_RENAMEAT, SYS_renameat},
    {LNR_EVT_RENAMEAT2, SYS_renameat2},
    {LNR_EVT_MKDIR, SYS_mkdir},
    {LNR_EVT_MKDIRAT, SYS_mkdirat},
    {LNR_EVT_RMDIR, SYS_rmdir},
    {LNR_EVT_CHMOD, SYS_chmod},
    {LNR_EVT_FCHMOD, SYS_fchmod},
    {LNR_EVT_FCHMODAT, SYS_fchmodat},
    {LNR_EVT_FCHMODAT, SYS_fchmodat2},  // same arguments in the first three slots
    {LNR_EVT_TRUNCATE, SYS_truncate},
    {LNR_EVT_FTRUNCATE, SYS_ftruncate},
    {LNR_EVT_MEMFD_CREATE, SYS_memfd_create},
    {LNR_EVT_SOCKET, SYS_socket},
    {LNR_EVT_CONNECT, SYS_connect},
    {LNR_EVT_ACCEPT, SYS_accept},
    {LNR_EVT_ACCEPT4, SYS_accept4},
    {LNR_EVT_BIND, SYS_bind},
    {LNR_EVT_LISTEN, SYS_listen},
    {LNR_EVT_SENDTO, SYS_sendto},
    {LNR_EVT_SENDMSG, SYS_sendmsg},
    {LNR_EVT_RECVFROM, SYS_recvfrom},
    {LNR_EVT_RECVMSG, SYS_recvmsg},
    {LNR_EVT_SETUID, SYS_setuid},
    {LNR_EVT_SETGID, SYS_setgid},
    {LNR_EVT_SETRESUID, SYS_setresuid},
    {LNR_EVT_SETRESGID, SYS_setresgid},
    {LNR_EVT_CAPSET, SYS_capset},
    {LNR_EVT_PRCTL, SYS_prctl},
    {LNR_EVT_CHROOT, SYS_chroot},
    {LNR_EVT_UNSHARE, SYS_unshare},
    {LNR_EVT_SETNS, SYS_setns},
    {LNR_EVT_MOUNT, SYS_mount},
    {LNR_EVT_UMOUNT2, SYS_umount2},
    {LNR_EVT_INIT_MODULE, SYS_init_module},
    {LNR_EVT_FINIT_MODULE, SYS_finit_module},
    {LNR_EVT_BPF, SYS_bpf},
    {LNR_EVT_USERFAULTFD, SYS_userfaultfd},
    {LNR_EVT_PTRACE, SYS_ptrace},
    {LNR_EVT_PROCESS_VM_WRITEV, SYS_process_vm_writev},
    {LNR_EVT_KILL, SYS_kill},
    {LNR_EVT_CHOWN, SYS_chown},
    {LNR_EVT_LCHOWN, SYS_lchown},
    {LNR_EVT_FCHOWN, SYS_fchown},
    {LNR_EVT_FCHOWNAT, SYS_fchownat},
    {LNR_EVT_MPROTECT, SYS_mprotect},
    {LNR_EVT_MMAP, SYS_mmap},
    {LNR_EVT_PIDFD_OPEN, SYS_pidfd_open},
    {LNR_EVT_PIDFD_GETFD, SYS_pidfd_getfd},
    {LNR_EVT_PROCESS_VM_READV, SYS_process_vm_readv},
    {LNR_EVT_KEXEC_LOAD, SYS_kexec_load},
    {LNR_EVT_KEXEC_FILE_LOAD, SYS_kexec_file_load},
    {LNR_EVT_KEYCTL, SYS_keyctl},
    {LNR_EVT_FSOPEN, SYS_fsopen},
    {LNR_EVT_FSMOUNT, SYS_fsmount},
    {LNR_EVT_MOVE_MOUNT, SYS_move_mount},
    {LNR_EVT_OPEN_BY_HANDLE_AT, SYS_open_by_handle_at},
    {LNR_EVT_IO_URING_SETUP, SYS_io_uring_setup},
    {LNR_EVT_IO_URING_ENTER, SYS_io_uring_enter},
    {LNR_EVT_IO_URING_REGISTER, SYS_io_uring_register},
    {LNR_EVT_SETSID, SYS_setsid},
    {LNR_EVT_SETPGID, SYS_setpgid},
};

inline constexpr uint32_t kSyscallTableSize = LNR_SYSCALL_TABLE;

// The probe's entry program tests a few ids itself (native/bpf/lib/kernel_defs.h: a BPF unit cannot
// take both numberings from the system headers); the build fails if they disagree with these.
static_assert(NR_open == SYS_open && NR_creat == SYS_creat && NR_openat == SYS_openat && NR_openat2 == SYS_openat2 &&
                  NR_connect == SYS_connect,
              "native/bpf/lib/kernel_defs.h disagrees with the x86-64 syscall numbers");
// The socket calls ia32's socketcall stands for, by their x86-64 ids (native/bpf/lib/socketcall.h).
static_assert(NR_socket == SYS_socket && NR_accept == SYS_accept && NR_sendto == SYS_sendto && NR_recvfrom == SYS_recvfrom &&
                  NR_sendmsg == SYS_sendmsg && NR_recvmsg == SYS_recvmsg && NR_bind == SYS_bind && NR_listen == SYS_listen &&
                  NR_accept4 == SYS_accept4,
              "native/bpf/lib/kernel_defs.h disagrees with the x86-64 socket call numbers");

}  // namespace lanner
