/** The `group.*` class: the effective group, named in the process's own container. */
import { field, type FieldDef } from './field';

export const GROUP_FIELDS: readonly FieldDef[] = [
  field('group.gid', 'uint32', 'group id', (c) => c.ev.egid),
  field('group.name', 'string', 'group name', (c) => c.state.groupName(c.ev.egid, c.containerId()) ?? (c.ev.egid === 0 ? 'root' : undefined)),
];
