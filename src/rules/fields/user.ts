/** The `user.*` class: the effective and login users, named in the process's own container. */
import { field, nullField, type FieldDef } from './field';

export const USER_FIELDS: readonly FieldDef[] = [
  field('user.uid', 'uint32', 'effective user id', (c) => c.ev.euid),
  field('user.name', 'string', 'user name of the effective uid', (c) => c.state.userName(c.ev.euid, c.containerId()) ?? (c.ev.euid === 0 ? 'root' : undefined)),
  field('user.loginuid', 'int64', 'audit login uid (-1 when unset)', (c) => c.ev.loginuid),
  field('user.loginname', 'string', 'user name of the login uid', (c) => (c.ev.loginuid >= 0 ? c.state.userName(c.ev.loginuid, c.containerId()) : undefined)),
  nullField('user.homedir', 'string', 'home directory of the user', 'the user table keeps names only'),
  nullField('user.shell', 'string', 'login shell of the user', 'the user table keeps names only'),
];
