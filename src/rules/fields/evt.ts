/** The `evt.*` class: the event itself (number, time, type, result, parameters). */
import { EVENT_TYPES } from '../../probe/event-types';
import { O_ACCMODE, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, S_IXUGO } from '../../probe/linux';
import { isOpenFamily, modeArg, openFlagsArg } from '../context';
import { renderResult } from '../render';
import { field, fieldWithArg, type FieldDef } from './field';
import { paramRaw, renderArgs, renderParam } from './params';
import { dateTime, evtTime, isoTime, timeOfDay } from './time';

export const EVT_FIELDS: readonly FieldDef[] = [
  field('evt.num', 'uint64', 'event sequence number', (c) => c.evtNum),
  field('evt.time', 'abstime', 'event timestamp (text: time of day with ns)', evtTime, { text: timeOfDay }),
  field('evt.time.s', 'string', 'event time of day, seconds precision', (c) => timeOfDay(evtTime(c)).slice(0, 8)),
  field('evt.time.iso8601', 'string', 'event timestamp as ISO 8601 with ns', (c) => isoTime(evtTime(c))),
  field('evt.datetime', 'string', 'event date and time with ns', (c) => dateTime(evtTime(c))),
  field('evt.rawtime', 'abstime', 'event timestamp in ns since the epoch', evtTime),
  field('evt.reltime', 'reltime', 'event time relative to boot (ns)', (c) => c.ev.tsNs),
  field('evt.type', 'string', "event name, e.g. 'execve'", (c) => EVENT_TYPES[c.ev.typeId]?.name),
  field('evt.cpu', 'uint32', 'CPU the event happened on', (c) => c.ev.cpu),
  field('evt.dir', 'string', "deprecated: always '<' (exit events only)", () => '<', { deprecated: true }),
  field('evt.latency', 'reltime', 'deprecated: always 0', () => 0, { deprecated: true }),
  field('evt.res', 'string', "'SUCCESS' or the errno name", (c) => (EVENT_TYPES[c.ev.typeId]?.category === 'syscall' ? renderResult(c.ev.ret) : undefined)),
  field('evt.rawres', 'int64', 'raw return value (negative errno on failure)', (c) => (EVENT_TYPES[c.ev.typeId]?.category === 'syscall' ? c.ev.ret : undefined)),
  field('evt.failed', 'bool', 'the syscall returned an error', (c) => c.ev.ret < 0),
  field('evt.source', 'string', "event source, 'syscall'", () => 'syscall'),
  field('evt.hostname', 'string', 'host name of the node', (c) => c.hostname),
  field('evt.pluginname', 'string', 'plugin that produced the event (never set for syscalls)', () => undefined),
  field('evt.args', 'string', 'all parameters as name=value text', renderArgs),
  field('evt.buffer', 'bytebuf', 'I/O payload (not captured by Lanner)', () => undefined),
  field('evt.is_open_read', 'bool', 'open family: opened for reading', (c) => {
    const i = openFlagsArg[c.ev.typeId]!;
    if (i < 0) return false;
    const acc = c.ev.rawArg(i) & O_ACCMODE;
    return acc === O_RDONLY || acc === O_RDWR;
  }),
  field('evt.is_open_write', 'bool', 'open family: opened for writing', (c) => {
    const id = c.ev.typeId;
    if (!isOpenFamily[id]) return false;
    const i = openFlagsArg[id]!;
    if (i < 0) return true; // creat() always writes
    const acc = c.ev.rawArg(i) & O_ACCMODE;
    return acc === O_WRONLY || acc === O_RDWR;
  }),
  field('evt.is_open_exec', 'bool', 'open family: created a file with an execute bit', (c) => {
    const id = c.ev.typeId;
    if (!isOpenFamily[id]) return false;
    const fi = openFlagsArg[id]!;
    const creating = fi < 0 || (c.ev.rawArg(fi) & O_CREAT) !== 0; // creat() always creates
    const mi = modeArg[id]!;
    return creating && mi >= 0 && (c.ev.rawArg(mi) & S_IXUGO) !== 0;
  }),
  // `evt.arg` / `evt.rawarg` with a bracket: position or name (a name resolves through params.ts).
  fieldWithArg(
    'evt.arg',
    'string',
    'parameter by position [i] or name [name], as text',
    (arg) => {
      if (arg === undefined) return 'evt.arg needs [index] or .name';
      const i = Number(arg);
      return (c) => {
        const p = EVENT_TYPES[c.ev.typeId]?.params[i];
        return p ? renderParam(c, p) : undefined;
      };
    },
    { arg: 'index' },
  ),
  fieldWithArg(
    'evt.rawarg',
    'int64',
    'raw parameter by position [i] (numbers)',
    (arg) => {
      if (arg === undefined) return 'evt.rawarg needs [index] or .name';
      const i = Number(arg);
      return (c) => {
        const p = EVENT_TYPES[c.ev.typeId]?.params[i];
        if (!p) return undefined;
        const v = paramRaw(c, p);
        return typeof v === 'number' ? v : undefined;
      };
    },
    { arg: 'index' },
  ),
];
