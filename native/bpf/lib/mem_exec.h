// SPDX-License-Identifier: GPL-2.0
/*
 * Which memory-protection calls ship. A process maps code all the time (ld.so maps every library
 * PROT_READ|PROT_EXEC from its file, MAP_PRIVATE), so shipping every exec mapping would flood the
 * ring with nothing a rule can use. What shellcode loaders, reflective loaders and W^X breaks do
 * instead is make memory executable that was not a file's code:
 *   - mprotect adding PROT_EXEC (turning written memory into code);
 *   - mmap with PROT_EXEC and PROT_WRITE (a W+X mapping), or PROT_EXEC on anonymous memory.
 * Everything else (read-only, data, and file-backed R+X mappings) is decided here and never
 * counted as seen.
 */
#ifndef LANNER_BPF_MEM_EXEC_H
#define LANNER_BPF_MEM_EXEC_H

#include "lib/kernel_defs.h"

static __always_inline bool mem_exec_ships(__u16 type, __s64 prot, __s64 flags)
{
	if (type == LNR_EVT_MPROTECT)
		return (prot & PROT_EXEC_) != 0;
	if (type == LNR_EVT_MMAP)
		return (prot & PROT_EXEC_) && ((prot & PROT_WRITE_) || (flags & MAP_ANONYMOUS_));
	return true;
}

#endif /* LANNER_BPF_MEM_EXEC_H */
