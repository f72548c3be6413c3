/**
 * The `fs.path.*` class: the paths of file-system calls that create or delete names or change
 * ownership. One-path calls (mkdir, rmdir, unlink, the chown family) have a name; two-path calls
 * (link, symlink, rename) have a source and a target. Resolved paths are absolute; the `raw` forms
 * are as passed to the syscall (fchown passes none: its name is the path of its fd's file).
 */
import { eventTypeByName, familyMask } from '../../probe/event-types';
import type { ExtractContext } from '../context';
import { field, type FieldDef } from './field';

function maskOf(...families: Parameters<typeof familyMask>[0][]): Uint8Array {
  const out = familyMask(families[0]!);
  for (const f of families.slice(1)) familyMask(f).forEach((v, i) => (out[i] = out[i]! | v));
  return out;
}

const onePath = maskOf('mkdir', 'unlink', 'chown');
const FCHOWN = eventTypeByName('fchown')!.id;
const twoPaths = maskOf('link', 'symlink', 'rename');

/** `rmdir` has no family of its own: it is the one-path call the families above do not cover. */
const RMDIR = eventTypeByName('rmdir')!.id;

function isOnePath(c: ExtractContext): boolean {
  return onePath[c.ev.typeId] === 1 || c.ev.typeId === RMDIR;
}

function path(which: 'name' | 'source' | 'target', raw: boolean): (c: ExtractContext) => string | undefined {
  return (c) => {
    if (which === 'name' ? !isOnePath(c) : twoPaths[c.ev.typeId] !== 1) return undefined;
    // fchown's path was walked from its fd in the kernel (or, failing that, is the fd's name).
    if (c.ev.typeId === FCHOWN) return raw ? undefined : c.ev.str(0) ?? c.fd()?.name;
    const slot = which === 'target' ? 1 : 0;
    return raw ? c.ev.strRaw(slot) : c.ev.str(slot);
  };
}

export const FSPATH_FIELDS: readonly FieldDef[] = [
  field('fs.path.name', 'string', 'path of a one-path call (mkdir, rmdir, unlink, chown family), resolved', path('name', false)),
  field('fs.path.nameraw', 'string', 'path of a one-path call, as passed', path('name', true)),
  field('fs.path.source', 'string', 'source path of link, symlink or rename, resolved', path('source', false)),
  field('fs.path.sourceraw', 'string', 'source path of link, symlink or rename, as passed', path('source', true)),
  field('fs.path.target', 'string', 'target path of link, symlink or rename, resolved', path('target', false)),
  field('fs.path.targetraw', 'string', 'target path of link, symlink or rename, as passed', path('target', true)),
];
