/**
 * The engine's path gate: the kernel filters' atoms (./path-atoms.ts), used again per event type
 * in user space. Before an open, a path change or an exec is evaluated, one pass over its path (an
 * exact-path map, prefixes grouped by their first component, suffixes by their last character, a
 * few substrings), one process-name lookup and a mode test mark the rules of the bucket the event
 * can satisfy; the engine skips the others without calling their predicates.
 *
 * Sound by the kernel filter's argument, with the same classes (./filter-classes.ts): a rule's
 * atoms hold for every judged path it can match, and a path that is not judged (relative, or with
 * `//`, `/./` or `../` in it, or ending in `/.` or `/..`) runs every rule. The kernel ships such
 * paths unjudged for the same reason. Rules whose conditions bound nothing always run. Unlike the
 * kernel, the gate searches substrings on reads too: a search is cheap here.
 *
 * Why: the kernel filter keeps the opens some rule may match, so most opens that reach user space
 * match an atom of one or two rules, and Falco's stock files hold twenty-odd open rules. Without
 * the gate each open called every one of them.
 */
import type { FieldValue } from './context';
import { openFlagsArg, modeArg, type ExtractContext } from './context';
import { CHANGE_CLASSES, EXEC_CLASS, MODE_FILTER_TYPES, OPEN_CLASS } from './filter-classes';
import { filterOf, isUnbounded, type FilterClass, type PathFilter } from './path-atoms';
import { COMM_NAME_MAX } from '../probe/layout';
import { eventTypeByName } from '../probe/event-types';
import { O_ACCMODE, O_CREAT, O_TRUNC } from '../probe/linux';
import type { ConditionNode } from './ast';
import { foldInfo } from './compile/fold';

/**
 * Conditions with more checks than this always run: reading their atoms per class would cost
 * more at load than it saves (the compiler does not specialise them per type either).
 */
const MAX_GATED_LEAVES = 2000;

/** Marks the rules an event may satisfy (`allowed[i] === c.stamp`); true when every rule must run. */
export interface PathGate {
  readonly mark: (c: ExtractContext) => boolean;
  /** Per rule of the bucket, the stamp of the last event that may satisfy it. */
  readonly allowed: Uint32Array;
  /** Per rule of the bucket: false when it always runs. */
  readonly gated: readonly boolean[];
}

/** One atom's text with the rules it marks: on any call, or only on opens that can write. */
interface Entry {
  readonly text: string;
  readonly any: number[];
  readonly write: number[];
}

/** The string slots holding a change type's paths (every string its class reads as a path). */
function pathSlots(typeName: string): (0 | 1)[] {
  const spec = eventTypeByName(typeName)!;
  const slots = new Set<0 | 1>();
  for (const p of spec.params) if (p.source.from === 'str') slots.add(p.source.slot as 0 | 1);
  return [...slots].sort();
}

const NOT_JUDGED = -2;
const NO_HEAD = -1;

/**
 * One pass over a path: NOT_JUDGED unless the kernel judges it byte by byte (absolute, without
 * `//`, `/./` or `../`, not ending in `/.` or `/..`), which makes it the path every field of the
 * rules reads; else the hash of its first component (between the first two slashes), or NO_HEAD
 * without a second slash. The hash stays a small integer, so the map lookup allocates nothing.
 */
function scanPath(p: string): number {
  if (p.charCodeAt(0) !== 47) return NOT_JUDGED;
  let head = NO_HEAD;
  let h = 7;
  let prev1 = 47;
  let prev2 = 0;
  let prev3 = 0;
  for (let i = 1; i < p.length; i++) {
    const ch = p.charCodeAt(i);
    if (ch === 47) {
      // '//', '/./' and any '../'
      if (prev1 === 47 || (prev1 === 46 && (prev2 === 47 || prev2 === 46))) return NOT_JUDGED;
      if (head === NO_HEAD) head = h & 0x3fffffff;
    } else if (head === NO_HEAD) {
      h = Math.imul(h, 31) + ch;
    }
    prev3 = prev2;
    prev2 = prev1;
    prev1 = ch;
  }
  if (prev1 === 46 && (prev2 === 47 || (prev2 === 46 && prev3 === 47))) return NOT_JUDGED;
  return head;
}

/** A rule indexed under several types of one class (the four opens) is read once per class. */
const filters = new WeakMap<ConditionNode, Map<FilterClass, PathFilter>>();
function cachedFilterOf(cond: ConditionNode, cls: FilterClass): PathFilter {
  let byClass = filters.get(cond);
  if (byClass === undefined) filters.set(cond, (byClass = new Map()));
  let f = byClass.get(cls);
  if (f === undefined) byClass.set(cls, (f = filterOf(cond, cls)));
  return f;
}

function entryOf(index: Map<string, Entry>, text: string): Entry {
  let e = index.get(text);
  if (e === undefined) index.set(text, (e = { text, any: [], write: [] }));
  return e;
}

function grouped<K>(entries: Iterable<Entry>, key: (e: Entry) => K): Map<K, Entry[]> {
  const out = new Map<K, Entry[]>();
  for (const e of entries) {
    const k = key(e);
    const list = out.get(k);
    if (list) list.push(e);
    else out.set(k, [e]);
  }
  return out;
}

/** The fields the gate reads where the event's record does not hold the value. */
export interface GateFields {
  /** `proc.name`, the field the process-name atoms come from. */
  readonly processName: FieldReader;
  /** `proc.exepath`, an exec's path. */
  readonly exePath: FieldReader;
}
type FieldReader = (c: ExtractContext) => FieldValue | undefined;

/** What an event's paths are read from: the record's raw strings, or for execs a field. */
function pathReaders(typeName: string, isOpen: boolean, fields: GateFields): FieldReader[] {
  if (EXEC_CLASS.typeNames.has(typeName)) return [fields.exePath];
  return (isOpen ? ([0] as const) : pathSlots(typeName)).map((slot) => (c: ExtractContext) => c.ev.strRaw(slot));
}

/**
 * The gate for one bucket (rules in bucket order, with their expanded conditions), or undefined
 * when the type has no path class or no rule of the bucket is bounded.
 */
export function pathGateFor(conditions: readonly ConditionNode[], typeName: string, fields: GateFields): PathGate | undefined {
  const isOpen = OPEN_CLASS.typeNames.has(typeName);
  const cls: FilterClass | undefined = isOpen ? OPEN_CLASS : EXEC_CLASS.typeNames.has(typeName) ? EXEC_CLASS : CHANGE_CLASSES.get(typeName);
  if (cls === undefined) return undefined;
  const exacts = new Map<string, Entry>();
  const prefixes = new Map<string, Entry>();
  const suffixes = new Map<string, Entry>();
  const needles = new Map<string, Entry>();
  const comms = new Map<string, Entry>();
  const modes: { rule: number; mask: number }[] = [];
  const gated = conditions.map((cond, rule) => {
    if (foldInfo(cond).leaves > MAX_GATED_LEAVES) return false;
    const f = cachedFilterOf(cond, cls);
    if (isUnbounded(f)) return false;
    // Write-only atoms hold for opens; a change is a write whatever its atoms say.
    const add = (index: Map<string, Entry>, atoms: ReadonlyMap<string, boolean>): void => {
      for (const [text, writeOnly] of atoms) (writeOnly && isOpen ? entryOf(index, text).write : entryOf(index, text).any).push(rule);
    };
    add(exacts, f.exacts);
    add(prefixes, f.prefixes);
    add(suffixes, f.suffixes);
    add(needles, f.needles);
    for (const name of f.comms) entryOf(comms, name).any.push(rule);
    if (f.modeMask !== 0) modes.push({ rule, mask: f.modeMask });
    return true;
  });
  if (!gated.includes(true)) return undefined;

  // A prefix with its whole first component is looked up by it; a shorter one is tried on every path.
  const byHead = grouped([...prefixes.values()].filter((e) => scanPath(e.text) >= 0), (e) => scanPath(e.text));
  const loose = [...prefixes.values()].filter((e) => scanPath(e.text) < 0);
  const byLast = grouped(suffixes.values(), (e) => e.text.charCodeAt(e.text.length - 1));
  const needleList = [...needles.values()];
  const paths = pathReaders(typeName, isOpen, fields);
  const typeId = eventTypeByName(typeName)!.id;
  const flagsIndex = isOpen ? openFlagsArg[typeId]! : -1;
  const modeIndex = MODE_FILTER_TYPES.has(typeName) && modes.length > 0 ? modeArg[typeId]! : -1;
  const allowed = new Uint32Array(conditions.length);

  const hit = (e: Entry, writes: boolean, t: number): void => {
    for (let i = 0; i < e.any.length; i++) allowed[e.any[i]!] = t;
    if (writes) for (let i = 0; i < e.write.length; i++) allowed[e.write[i]!] = t;
  };
  const markPath = (p: string, h: number, writes: boolean, t: number): void => {
    const exact = exacts.get(p);
    if (exact !== undefined) hit(exact, writes, t);
    for (let i = 0; i < loose.length; i++) if (p.startsWith(loose[i]!.text)) hit(loose[i]!, writes, t);
    const heads = h < 0 ? undefined : byHead.get(h);
    if (heads !== undefined) for (let i = 0; i < heads.length; i++) if (p.startsWith(heads[i]!.text)) hit(heads[i]!, writes, t);
    const tails = byLast.get(p.charCodeAt(p.length - 1));
    if (tails !== undefined) for (let i = 0; i < tails.length; i++) if (p.endsWith(tails[i]!.text)) hit(tails[i]!, writes, t);
    for (let i = 0; i < needleList.length; i++) if (p.includes(needleList[i]!.text)) hit(needleList[i]!, writes, t);
  };

  const mark = (c: ExtractContext): boolean => {
    const ev = c.ev;
    const t = c.stamp;
    // The flags the rules' write tests read (evt.is_open_write, evt.arg.flags); creat has none and
    // always writes, and a change is a write.
    let writes = true;
    if (flagsIndex >= 0) {
      const flags = ev.rawArg(flagsIndex);
      writes = (flags & O_ACCMODE) !== 0 || (flags & (O_CREAT | O_TRUNC)) !== 0;
    }
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i]!(c);
      if (typeof p !== 'string') return true;
      const h = scanPath(p);
      if (h === NOT_JUDGED) return true;
      markPath(p, h, writes, t);
    }
    // The kernel found the opened file by another name the rules know: fd.name is that name.
    if (isOpen && ev.strRaw(1) !== undefined) return true;
    if (comms.size > 0) {
      const name = fields.processName(c);
      if (typeof name === 'string') {
        const comm = comms.get(name.length > COMM_NAME_MAX ? name.slice(0, COMM_NAME_MAX) : name);
        if (comm !== undefined) hit(comm, writes, t);
      }
    }
    if (modeIndex >= 0) {
      const mode = ev.rawArg(modeIndex);
      for (let i = 0; i < modes.length; i++) if ((mode & modes[i]!.mask) !== 0) allowed[modes[i]!.rule] = t;
    }
    return false;
  };
  return { mark, allowed, gated };
}
