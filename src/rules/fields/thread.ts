/** The `thread.*` class: the calling thread and its capability sets. */
import { renderCapabilities } from '../render';
import { field, nullField, type FieldDef } from './field';

const NOT_SAMPLED = 'the probe does not sample /proc counters';

export const THREAD_FIELDS: readonly FieldDef[] = [
  field('thread.tid', 'int64', 'thread id', (c) => c.ev.tid),
  field('thread.cap_effective', 'string', 'effective capabilities as names', (c) => renderCapabilities(c.ev.capEffective() || c.process()?.capEffective || 0n)),
  field('thread.cap_permitted', 'string', 'permitted capabilities as names', (c) => renderCapabilities(c.ev.capPermitted() || c.process()?.capPermitted || 0n)),
  field('thread.ismain', 'bool', 'the thread is the main thread of its process', (c) => c.ev.tid === c.ev.tgid),
  field('thread.vtid', 'int64', 'thread id inside its pid namespace (known for main threads)', (c) => (c.ev.tid === c.ev.tgid ? (c.process()?.vpid ?? c.ev.vpid) : undefined)),
  nullField('thread.cap_inheritable', 'string', 'inheritable capabilities', 'the probe does not capture them'),
  nullField('thread.pfmajor', 'uint64', 'major page faults', NOT_SAMPLED),
  nullField('thread.pfminor', 'uint64', 'minor page faults', NOT_SAMPLED),
  nullField('thread.exectime', 'reltime', 'CPU time of the last scheduled slice', 'scheduler switches are not traced'),
  nullField('thread.totexectime', 'reltime', 'total CPU time', 'scheduler switches are not traced'),
  nullField('thread.cgroups', 'string', 'all cgroups of the thread', 'only the cgroup id is captured'),
  nullField('thread.cgroup', 'string', 'cgroup of one subsystem (thread.cgroup.cpuacct)', 'only the cgroup id is captured', { arg: 'key' }),
  nullField('thread.cpu', 'double', 'CPU usage', NOT_SAMPLED),
  nullField('thread.cpu.user', 'double', 'user CPU usage', NOT_SAMPLED),
  nullField('thread.cpu.system', 'double', 'system CPU usage', NOT_SAMPLED),
  nullField('thread.vmsize', 'uint64', 'virtual memory of the thread (KiB)', NOT_SAMPLED),
  nullField('thread.vmrss', 'uint64', 'resident memory of the thread (KiB)', NOT_SAMPLED),
];
