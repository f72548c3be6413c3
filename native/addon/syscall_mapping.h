// One entry of an event type -> syscall id table. Apart from syscalls.h so that the ia32 table
// can be built in a unit that includes only the ia32 numbering (<asm/unistd_32.h> and the
// x86-64 <sys/syscall.h> define the same __NR_ names).
#pragma once
#include <cstddef>
#include <cstdint>

#include "../bpf/events.h"

namespace lanner {

struct SyscallMapping {
  uint16_t type;
  uint16_t nr;
};

// The ia32 table (syscalls_ia32.cc): the same event types under the compat numbering.
extern const SyscallMapping kSyscallMapIa32[];
extern const size_t kSyscallMapIa32Size;

}  // namespace lanner
