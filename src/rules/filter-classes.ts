/**
 * What a path filter reads on each kind of event (./path-atoms.ts `FilterClass`): opens, and each
 * call that changes a path (and execs, for the gate). The kernel's filters (./open-filter.ts) and the engine's path gate
 * (./path-gate.ts) read rules through the same classes, so both skip the same events.
 */
import { EVENT_FAMILIES, eventTypeByName } from '../probe/event-types';
import { eventTypeHasFd } from './context';
import { modeBitsNamedBy } from './render';
import { ANY_WRITE, NOTHING, type FieldRole, type FilterClass } from './path-atoms';
const WRITE_FLAGS = new Set(['O_WRONLY', 'O_RDWR', 'O_TRUNC', 'O_CREAT']);

/** Opens: the opened path is fd.name and evt.arg.name (fd.nameraw as passed); writes are a class of their own. */
export const OPEN_CLASS: FilterClass = {
  typeNames: new Set(EVENT_FAMILIES.open),
  // Substrings are searched for opens that can write only: one that holds for reads bounds nothing (openBound).
  needles: true,
  role(field: string): FieldRole {
    if (field === 'fd.name' || field === 'evt.arg.name' || field === 'fd.nameraw') return 'path';
    if (field === 'fd.directory') return 'directory';
    if (field === 'fd.filename') return 'basename';
    return 'other';
  },
  special(field, op, vals) {
    if (field === 'evt.is_open_write' && (op === '=' || op === '==') && vals[0] === 'true') return ANY_WRITE;
    if (field === 'evt.arg.flags' && op === 'contains' && vals.length === 1 && WRITE_FLAGS.has(vals[0]!)) return ANY_WRITE;
    return undefined;
  },
};

/** Event types the change filter judges: each passes its paths in string slots the kernel reads from user memory. */
export const CHANGE_FILTER_TYPES: readonly string[] = [
  ...EVENT_FAMILIES.unlink, 'rmdir', ...EVENT_FAMILIES.rename, ...EVENT_FAMILIES.link, ...EVENT_FAMILIES.symlink,
  ...EVENT_FAMILIES.mkdir, 'chmod', 'fchmodat', 'truncate', 'chown', 'lchown', 'fchownat',
];

const ONE_PATH: ReadonlySet<string> = new Set<string>([...EVENT_FAMILIES.unlink, 'rmdir', ...EVENT_FAMILIES.mkdir, 'chown', 'lchown', 'fchownat']);
const TWO_PATHS: ReadonlySet<string> = new Set<string>([...EVENT_FAMILIES.rename, ...EVENT_FAMILIES.link, ...EVENT_FAMILIES.symlink]);
const FD_PATH_FIELDS = new Set(['fd.name', 'fd.nameraw', 'fd.directory', 'fd.filename']);

/** Change types whose mode argument the kernel tests against mode bits (events.h: change_mode_mask). */
export const MODE_FILTER_TYPES: ReadonlySet<string> = new Set(['chmod', 'fchmodat', 'mkdir', 'mkdirat']);

/**
 * One change type: its string parameters and fs.path.* are its paths; other parameters are absent;
 * on a type with a mode, `evt.arg.mode contains` a flag name gives mode bits.
 */
function changeClass(typeName: string): FilterClass {
  const spec = eventTypeByName(typeName)!;
  const params = new Map(spec.params.map((p) => [p.name, p]));
  return {
    typeNames: new Set([typeName]),
    needles: true,
    special(field, op, vals) {
      if (field !== 'evt.arg.mode' || op !== 'contains' || vals.length !== 1 || !MODE_FILTER_TYPES.has(typeName)) return undefined;
      const mask = modeBitsNamedBy(vals[0]!);
      return mask === undefined ? undefined : { ...NOTHING, modeMask: mask };
    },
    role(field: string): FieldRole {
      const arg = /^evt\.(?:raw)?arg\.(.+)$/.exec(field);
      if (arg) {
        const p = params.get(arg[1]!);
        if (p === undefined) return 'absent';
        return p.source.from === 'str' ? 'path' : 'other';
      }
      if (field === 'fs.path.name' || field === 'fs.path.nameraw') return ONE_PATH.has(typeName) ? 'path' : 'absent';
      if (/^fs\.path\.(source|target)(raw)?$/.test(field)) return TWO_PATHS.has(typeName) ? 'path' : 'absent';
      if (FD_PATH_FIELDS.has(field) && !eventTypeHasFd(spec.id)) return 'absent';
      return 'other';
    },
  };
}
export const CHANGE_CLASSES: ReadonlyMap<string, FilterClass> = new Map(CHANGE_FILTER_TYPES.map((t) => [t, changeClass(t)]));

/**
 * Execs, for the engine's gate only: `proc.exepath` is the path, `proc.name` the name. The kernel
 * does not filter execs (the process table needs every one).
 */
export const EXEC_CLASS: FilterClass = {
  typeNames: new Set(EVENT_FAMILIES.exec),
  needles: true,
  role: (field) => (field === 'proc.exepath' ? 'path' : 'other'),
};
