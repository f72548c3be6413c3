/** The `fdlist.*` class: the fds of a poll call. No poll-family event is traced, so all are null. */
import { nullField, type FieldDef } from './field';

const WHY = 'poll events are not traced';

export const FDLIST_FIELDS: readonly FieldDef[] = [
  nullField('fdlist.nums', 'string', 'fd numbers of a poll event, comma-separated', WHY),
  nullField('fdlist.names', 'string', 'fd names of a poll event, comma-separated', WHY),
  nullField('fdlist.cips', 'string', 'client IPs of the fds of a poll event', WHY),
  nullField('fdlist.sips', 'string', 'server IPs of the fds of a poll event', WHY),
  nullField('fdlist.cports', 'string', 'client ports of the fds of a poll event', WHY),
  nullField('fdlist.sports', 'string', 'server ports of the fds of a poll event', WHY),
];
