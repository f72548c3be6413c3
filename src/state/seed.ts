/**
 * Seeding: the process table filled from /proc at start (processes, their cgroup ids and
 * containers, and optionally the fds they already hold), so events about processes that predate
 * the agent find them.
 */
import { statSync } from 'node:fs';
import { HOST_CONTAINER_ID, unifiedCgroupPath } from './cgroup';
import type { StateConfig } from './config';
import type { ContainerResolver } from './container-resolver';
import type { FdCounters } from './fd-table';
import { createProcFdReader } from './proc-fds';
import { entryFromSnapshot } from './process-events';
import { findCgroup2Mount, listProcesses, readProcess } from './procfs';
import type { ProcessTable } from './process-table';

export function seedFromProc(config: StateConfig, table: ProcessTable, fdCounters: FdCounters, containers: ContainerResolver): void {
  const procRoot = config.proc_root;
  const cgroup2Mount = findCgroup2Mount(procRoot);
  const inoByPath = new Map<string, number>();
  const fdReader = config.seed_fds ? createProcFdReader(procRoot) : undefined;
  for (const tgid of listProcesses(procRoot)) {
    const snap = readProcess(tgid, { procRoot, maxEnvBytes: config.max_env_bytes });
    if (!snap) continue;
    const e = entryFromSnapshot(snap, 'proc', config.max_fds_per_process, procRoot);
    const v2 = unifiedCgroupPath(snap.cgroupText);
    let cgroupId = 0;
    if (v2 !== undefined && cgroup2Mount !== undefined) {
      // The kernel's cgroup id is the inode number of the cgroup's directory in cgroup2.
      cgroupId = inoByPath.get(v2) ?? 0;
      if (cgroupId === 0) {
        try {
          cgroupId = Number(statSync(`${cgroup2Mount}${v2}`).ino);
        } catch {
          cgroupId = 0;
        }
        inoByPath.set(v2, cgroupId);
      }
    }
    e.cgroupId = cgroupId;
    e.containerId = snap.cgroupText ? containers.resolveCgroupText(snap.cgroupText, cgroupId) : HOST_CONTAINER_ID;
    containers.noteContainerPid(e);
    table.insert(e);
    if (fdReader) for (const fd of fdReader.read(tgid, config.max_fds_per_process)) e.fds.set(fd, fdCounters);
  }
}
