/** The `evt.*` class: the event itself (number, time, type, result, parameters). */
import { EVENT_TYPES, familyMask } from '../../probe/event-types';
import { O_ACCMODE, O_CREAT, O_RDONLY, O_RDWR, O_WRONLY, S_IXUGO } from '../../probe/linux';
import { isOpenFamily, modeArg, openFlagsArg, type ExtractContext } from '../context';
import { renderResult } from '../render';
import { eventCategory } from './evt-category';
import { field, fieldWithArg, nullField, type FieldDef } from './field';
import { paramRaw, renderArgs, renderParam } from './params';
import { dateTime, evtTime, isoTime, timeOfDay } from './time';

const ioRead = familyMask('io_read');
const ioWrite = familyMask('io_write');
const NS = 1_000_000_000;

function category(c: ExtractContext): string {
  return eventCategory(c.ev.typeId, () => c.fd()?.type);
}
function failedIn(cat: string): (c: ExtractContext) => number {
  return (c) => (c.ev.ret < 0 && EVENT_TYPES[c.ev.typeId]?.category === 'syscall' && category(c) === cat ? 1 : 0);
}
/** The event's n-th path (first or second string slot), resolved or as passed. */
function pathOf(slot: 0 | 1): (c: ExtractContext) => string | undefined {
  return (c) => {
    const p = EVENT_TYPES[c.ev.typeId]?.params.find((q) => q.kind === 'path' && q.source.from === 'str' && q.source.slot === slot);
    return p ? c.ev.str(slot) : undefined;
  };
}

/** Fields of libsinsp's event classes that Lanner added for parity (names, types and argument forms as Falco's). */
const EVT_PARITY_FIELDS: readonly FieldDef[] = [
  field('evt.datetime.s', 'string', 'event date and time, seconds precision', (c) => dateTime(evtTime(c)).slice(0, 19)),
  field('evt.rawtime.s', 'abstime', 'seconds part of evt.rawtime', (c) => evtTime(c) / BigInt(NS)),
  field('evt.rawtime.ns', 'abstime', 'nanoseconds part of evt.rawtime', (c) => evtTime(c) % BigInt(NS)),
  field('evt.reltime.s', 'reltime', 'seconds part of evt.reltime', (c) => Math.floor(c.ev.tsNs / NS)),
  field('evt.reltime.ns', 'reltime', 'nanoseconds part of evt.reltime', (c) => c.ev.tsNs % NS),
  field('evt.plugininfo', 'string', 'plugin event summary (never set for syscalls)', () => undefined),
  field('evt.is_async', 'bool', 'the event is asynchronous (never for syscalls)', () => false),
  nullField('evt.asynctype', 'string', 'type of an asynchronous event', 'the probe delivers no asynchronous events'),
  field('evt.latency.s', 'reltime', 'deprecated: always 0', () => 0, { deprecated: true }),
  field('evt.latency.ns', 'reltime', 'deprecated: always 0', () => 0, { deprecated: true }),
  field('evt.latency.human', 'string', 'deprecated: always 0ns', () => '0ns', { deprecated: true }),
  field('evt.deltatime', 'reltime', 'ns since the previous event evaluated by the rules', (c) => c.deltaNs()),
  field('evt.deltatime.s', 'reltime', 'seconds part of evt.deltatime', (c) => Math.floor(c.deltaNs() / NS)),
  field('evt.deltatime.ns', 'reltime', 'nanoseconds part of evt.deltatime', (c) => c.deltaNs() % NS),
  field('evt.outputtime', 'string', 'event time as outputs print it', (c) => timeOfDay(evtTime(c))),
  fieldWithArg(
    'evt.type.is',
    'uint32',
    "1 if the event's type is the one named by the argument (evt.type.is.open or evt.type.is[open]), else 0",
    (arg) => {
      if (arg === undefined) return "evt.type.is needs an event name, e.g. 'evt.type.is.open'";
      return (c) => (EVENT_TYPES[c.ev.typeId]?.name === arg ? 1 : 0);
    },
    { arg: 'key' },
  ),
  field('syscall.type', 'string', 'system call name (unset for non-syscall events)', (c) => {
    const t = EVENT_TYPES[c.ev.typeId];
    return t?.category === 'syscall' ? t.name : undefined;
  }),
  field('evt.category', 'string', "event category: 'file', 'net', 'process', 'user', 'memory', 'ipc', 'signal' or 'other'", category),
  field('evt.info', 'string', 'the event parameters as name=value text', renderArgs),
  field('evt.buflen', 'uint64', 'bytes sent or received by an I/O event', (c) => ((ioRead[c.ev.typeId] || ioWrite[c.ev.typeId]) && c.ev.ret >= 0 ? c.ev.ret : undefined)),
  field('evt.is_io', 'bool', 'the event reads or writes data', (c) => ioRead[c.ev.typeId] === 1 || ioWrite[c.ev.typeId] === 1),
  field('evt.is_io_read', 'bool', 'the event reads data', (c) => ioRead[c.ev.typeId] === 1),
  field('evt.is_io_write', 'bool', 'the event writes data', (c) => ioWrite[c.ev.typeId] === 1),
  field('evt.io_dir', 'string', "'r' for reads, 'w' for writes", (c) => (ioRead[c.ev.typeId] ? 'r' : ioWrite[c.ev.typeId] ? 'w' : undefined)),
  field('evt.is_wait', 'bool', 'the event waits (sleep, poll, …): no traced event does', () => false),
  nullField('evt.wait_latency', 'reltime', 'deprecated: time spent waiting', 'no waiting event is traced', { deprecated: true }),
  field('evt.is_syslog', 'bool', 'the event writes to /dev/log', (c) => ioWrite[c.ev.typeId] === 1 && (c.fd()?.name.includes('/dev/log') ?? false)),
  field('evt.count', 'uint32', 'always 1 (for counting in aggregations)', () => 1),
  field('evt.count.error', 'uint32', '1 for a failed syscall, else 0', (c) => (c.ev.ret < 0 && EVENT_TYPES[c.ev.typeId]?.category === 'syscall' ? 1 : 0)),
  field('evt.count.error.file', 'uint32', '1 for a failed file syscall, else 0', failedIn('file')),
  field('evt.count.error.net', 'uint32', '1 for a failed network syscall, else 0', failedIn('net')),
  field('evt.count.error.memory', 'uint32', '1 for a failed memory syscall, else 0', failedIn('memory')),
  field('evt.count.error.other', 'uint32', '1 for a failed syscall of another category, else 0', failedIn('other')),
  field('evt.count.exit', 'uint32', '1 for exit events: every event here is an exit event', () => 1),
  nullField('evt.around', 'uint64', 'events around a timestamp in a capture file', 'a capture-file feature', { arg: 'key', filterOnly: true }),
  field('evt.abspath', 'string', 'absolute path of the first path parameter (dirfd resolved)', pathOf(0)),
  field('evt.abspath.src', 'string', 'absolute source path of two-path calls (rename, link, symlink)', pathOf(0)),
  field('evt.abspath.dst', 'string', 'absolute destination path of two-path calls (rename, link, symlink)', pathOf(1)),
  field('evt.is_open_create', 'bool', 'open family: asked to create the file (O_CREAT or creat; whether it already existed is not known)', (c) => {
    const id = c.ev.typeId;
    if (!isOpenFamily[id]) return false;
    const fi = openFlagsArg[id]!;
    return fi < 0 || (c.ev.rawArg(fi) & O_CREAT) !== 0;
  }),
];

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
  field('evt.buffer', 'bytebuf', 'head of the I/O payload: the first 80 bytes of a recvfrom or sendto (the probe traces no read or write)', (c) => c.ev.ioData()),
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
  ...EVT_PARITY_FIELDS,
];
