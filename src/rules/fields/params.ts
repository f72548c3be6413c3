/**
 * Event parameters (`evt.arg.<name>`, `evt.rawarg.<name>`, `evt.arg[i]`, `evt.args`): raw values
 * from the record, and their text the way Falco renders them (fds with their names, uids as user
 * names, flags symbolically).
 */
import type { ParamSpec } from '../../probe/event';
import { EVENT_TYPES } from '../../probe/event-types';
import { AT_FDCWD } from '../../probe/linux';
import type { ExtractContext } from '../context';
import { renderCapabilities, renderNumericParam } from '../render';
import { fdTypeChar } from './fd';
import type { Extractor, FieldDef } from './field';
import { LIBS_PARAM_KINDS } from './libs-params';

/** For each parameter name, its spec per event type id (undefined where the event lacks it). */
const paramsByName = new Map<string, (ParamSpec | undefined)[]>();
for (const t of EVENT_TYPES) {
  for (const p of t.params) {
    let row = paramsByName.get(p.name);
    if (!row) paramsByName.set(p.name, (row = new Array<ParamSpec | undefined>(EVENT_TYPES.length).fill(undefined)));
    row[t.id] = p;
  }
}

/** Every parameter name of any event type, sorted (`evt.arg.<name>` in the field list). */
export const PARAM_NAMES: readonly string[] = [...paramsByName.keys()].sort();

const NUMERIC_PARAM_KINDS = new Set(['errno', 'fd', 'pid', 'uid', 'gid', 'int', 'uint']);

export function paramRaw(c: ExtractContext, p: ParamSpec): number | string | undefined {
  const ev = c.ev;
  switch (p.source.from) {
    case 'ret':
      return ev.ret;
    case 'arg':
      return ev.rawArg(p.source.index);
    case 'str':
      return ev.str(p.source.slot);
    case 'sockaddr': {
      const sa = ev.sockaddr();
      return sa ? (sa.family === 'unix' ? sa.address : `${sa.address}:${sa.port}`) : undefined;
    }
    case 'exe_flags':
      return ev.exeFlags();
  }
}

export function renderParam(c: ExtractContext, p: ParamSpec): string | undefined {
  const raw = paramRaw(c, p);
  if (raw === undefined) return undefined;
  if (typeof raw === 'string') {
    if (p.kind === 'sockaddr') {
      const fd = c.fd();
      return fd && fd.name ? fd.name : raw;
    }
    return raw;
  }
  switch (p.kind) {
    case 'fd': {
      if (raw === AT_FDCWD) return `${AT_FDCWD}(AT_FDCWD)`;
      if (raw < 0) return p.source.from === 'ret' ? renderNumericParam('errno', raw) : String(raw);
      const fd = c.state.fd(c.ev.tgid, raw);
      return fd ? `${raw}(<${fdTypeChar(fd.type)}>${fd.name})` : String(raw);
    }
    case 'uid': {
      const name = c.state.userName(raw, c.containerId());
      return name ?? (raw === 0 ? 'root' : String(raw));
    }
    case 'gid': {
      const name = c.state.groupName(raw, c.containerId());
      return name ?? (raw === 0 ? 'root' : String(raw));
    }
    case 'cap_set':
      return renderCapabilities(BigInt(raw));
    case 'pid':
    case 'int':
    case 'uint':
    case 'path':
    case 'string':
      return String(raw);
    default:
      return renderNumericParam(p.kind, raw);
  }
}

function paramExtractor(row: readonly (ParamSpec | undefined)[], raw: boolean): Extractor {
  return (c) => {
    const p = row[c.ev.typeId];
    if (p === undefined) return undefined;
    return raw ? paramRaw(c, p) : renderParam(c, p);
  };
}

function asBytes(get: Extractor): Extractor {
  return (c) => {
    const v = get(c);
    return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'latin1')) : v;
  };
}

/** `name=value name=value` over the event's parameters, as Falco's evt.args. */
export function renderArgs(c: ExtractContext): string {
  const t = EVENT_TYPES[c.ev.typeId];
  if (!t) return '';
  let out = '';
  for (const p of t.params) {
    const v = renderParam(c, p);
    if (v === undefined) continue;
    out += out ? ` ${p.name}=${v}` : `${p.name}=${v}`;
  }
  return out;
}

/** Resolves `evt.arg.<name>`, `evt.rawarg.<name>`, `evt.arg[i|name]`; undefined if no such parameter. */
export function paramField(name: string, arg: string | undefined): FieldDef | undefined {
  let raw = false;
  let pname: string | undefined;
  if (name.startsWith('evt.arg.')) pname = name.slice(8);
  else if (name.startsWith('evt.rawarg.')) {
    pname = name.slice(11);
    raw = true;
  } else if ((name === 'evt.arg' || name === 'evt.rawarg') && arg !== undefined && !/^\d+$/.test(arg)) {
    pname = arg;
    raw = name === 'evt.rawarg';
  }
  if (pname === undefined) return undefined;
  const row = paramsByName.get(pname);
  if (!row) return libsOnlyParam(name, pname, raw, arg);
  const numeric = raw && row.every((p) => p === undefined || NUMERIC_PARAM_KINDS.has(p.kind) || (p.kind !== 'path' && p.kind !== 'string' && p.kind !== 'sockaddr'));
  // A raw address is a byte buffer in Falco (no ordering comparisons): its text as bytes here.
  // libsinsp types a parameter name by its first event, and `addr` is bind's socket address
  // before it is mmap's or mprotect's memory address, so one socket address types the name.
  const address = raw && row.some((p) => p !== undefined && p.kind === 'sockaddr');
  const extract = address ? asBytes(paramExtractor(row, raw)) : paramExtractor(row, raw);
  return {
    name,
    type: numeric ? 'int64' : address ? 'bytebuf' : 'string',
    description: raw ? `raw value of the '${pname}' parameter` : `the '${pname}' parameter rendered as text`,
    arg: arg === undefined ? 'none' : 'key',
    filterOnly: false,
    deprecated: false,
    either: false,
    make: () => extract,
  };
}

/** A parameter only events this probe does not trace have: it compiles and is always null. */
function libsOnlyParam(name: string, pname: string, raw: boolean, arg: string | undefined): FieldDef | undefined {
  const kind = LIBS_PARAM_KINDS.get(pname);
  if (kind === undefined) return undefined;
  return {
    name,
    type: !raw ? 'string' : kind === 'n' ? 'int64' : kind === 's' ? 'string' : 'bytebuf',
    description: `the '${pname}' parameter (always null here: no traced event has it)`,
    arg: arg === undefined ? 'none' : 'key',
    filterOnly: false,
    deprecated: false,
    either: false,
    alwaysNull: true,
    make: () => () => undefined,
  };
}
