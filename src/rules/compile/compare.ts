/**
 * Comparisons against constants written in the rule: which operators each field type accepts,
 * literal values parsed to the field's type, and the comparator closures (scalars, lists,
 * `oneof`/`anyof`/`allof`, IP networks, byte buffers).
 */
import { readFileSync } from 'node:fs';
import type { CheckNode, Rhs } from '../ast';
import type { FieldValue } from '../context';
import type { FieldType } from '../fields';
import { compileGlob, compilePathMatch, compileRegex, netContains, parseNet, type IpNet } from '../match';
import { CompileError, type SourceNode } from './error';

/** A comparison of one extracted value against the rule's constant(s). */
export type Cmp = (v: FieldValue) => boolean;

/** Operators allowed per type class (rule-language.md §8). */
export const OPERATORS_BY_TYPE: Record<FieldType, ReadonlySet<string>> = (() => {
  const eq = ['=', '==', '!=', 'in', 'intersects', 'exists'];
  const str = [...eq, '<', '<=', '>', '>=', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'iglob', 'regex', 'pmatch'];
  const num = [...eq, '<', '<=', '>', '>='];
  const s = new Set(str);
  const n = new Set(num);
  return {
    string: s,
    strlist: s,
    int64: n,
    int32: n,
    uint64: n,
    double: n,
    uint32: n,
    port: n,
    reltime: n,
    abstime: n,
    bool: new Set(eq),
    ipaddr: new Set(eq),
    ipnet: new Set(eq),
    bytebuf: new Set([...eq, 'contains', 'startswith', 'endswith', 'bcontains', 'bstartswith']),
  };
})();

let services: ReadonlyMap<string, number> | undefined;

/** A service name's port from /etc/services (names and aliases); read once, when first needed. */
function servicePort(name: string): number | undefined {
  if (!services) {
    const m = new Map<string, number>();
    try {
      for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
        const words = line.replace(/#.*/, '').trim().split(/\s+/);
        const port = /^(\d+)\//.exec(words[1] ?? '');
        if (!port) continue;
        for (const w of [words[0]!, ...words.slice(2)]) if (!m.has(w)) m.set(w, Number(port[1]));
      }
    } catch {
      // No services database: only numeric ports.
    }
    services = m;
  }
  return services.get(name);
}

/**
 * The text of an integer literal: decimal digits with an optional sign, leading blanks allowed
 * (libsinsp reads numeric values with scanf, so `0x1F` and `1.5` are not numbers for a field).
 */
function integerText(text: string, at: SourceNode): string {
  const m = /^[ \t\n\r\v\f]*([+-]?\d+)$/.exec(text);
  if (!m) throw new CompileError(`'${text}' is not a valid number (integers only, in decimal)`, at);
  return m[1]!.replace(/^\+/, '');
}

function hexBytes(text: string, node: SourceNode): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new CompileError(`'${text}' is not a hex byte string`, node);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bytesIndexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** A literal as a value of the field's type (an IP network for address types). */
function parseLiteral(node: CheckNode, type: FieldType, text: string, at: SourceNode): FieldValue | IpNet {
  if (text.includes('\0') && type !== 'bytebuf') throw new CompileError('NUL byte in a string value', at);
  switch (type) {
    case 'string':
    case 'strlist':
      return text;
    case 'bool':
      if (text !== 'true' && text !== 'false') throw new CompileError(`'${text}' is not a boolean (true or false)`, at);
      return text === 'true';
    case 'ipaddr':
    case 'ipnet': {
      const net = parseNet(text);
      if (!net) throw new CompileError(`'${text}' is not an IP address or CIDR network`, at);
      return net;
    }
    case 'bytebuf':
      return node.op === 'bcontains' || node.op === 'bstartswith' ? hexBytes(text, at) : new Uint8Array(Buffer.from(text, 'latin1'));
    case 'abstime':
      return BigInt(integerText(text, at));
    case 'port': {
      // As libsinsp: digits, '' for 0, or a service name from /etc/services.
      if (text === '') return 0;
      if (/^\d+$/.test(text)) return Number(text);
      const port = servicePort(text);
      if (port === undefined) throw new CompileError(`'${text}' is not a port number or a known service name`, at);
      return port;
    }
    default:
      return Number(integerText(text, at));
  }
}

/** The comparator of a check whose right-hand side is a literal or a list of literals. */
export function constantComparator(node: CheckNode, type: FieldType, rhs: Rhs): Cmp {
  const op = node.op;
  if (rhs.kind === 'list') {
    if (node.modifier) {
      const each = rhs.items.map((item) => scalarComparator(node, type, parseLiteral(node, type, item.value, item), item));
      const mod = node.modifier;
      if (each.length === 0) return () => false;
      return (v) => {
        let hits = 0;
        for (const f of each) if (f(v)) hits++;
        return mod === 'anyof' ? hits > 0 : mod === 'allof' ? hits === each.length : hits === 1;
      };
    }
    if (op === 'pmatch') {
      for (const i of rhs.items) if (i.value.includes('\0')) throw new CompileError('NUL byte in a string value', i);
      return compilePathMatch(rhs.items.map((i) => i.value)) as Cmp;
    }
    const values = rhs.items.map((i) => parseLiteral(node, type, i.value, i));
    if (type === 'ipaddr' || type === 'ipnet') {
      const nets = values as IpNet[];
      return (v) => nets.some((n) => netContains(n, v as string));
    }
    if (type === 'bytebuf') {
      const bufs = values as Uint8Array[];
      return (v) => bufs.some((b) => Buffer.compare(Buffer.from(b), Buffer.from(v as Uint8Array)) === 0);
    }
    const set = new Set(values as FieldValue[]);
    return (v) => set.has(v);
  }
  if (rhs.kind !== 'literal') throw new CompileError('unexpected right-hand side', rhs);
  return scalarComparator(node, type, parseLiteral(node, type, rhs.value, rhs), rhs);
}

function scalarComparator(node: CheckNode, type: FieldType, value: FieldValue | IpNet, at: SourceNode): Cmp {
  const op = node.op;
  if (type === 'ipaddr' || type === 'ipnet') {
    const net = value as IpNet;
    if (op === '!=') return (v) => !netContains(net, v as string);
    return (v) => netContains(net, v as string);
  }
  if (type === 'bytebuf') {
    const needle = Buffer.from(value as Uint8Array);
    switch (op) {
      case '=':
      case '==':
        return (v) => Buffer.compare(Buffer.from(v as Uint8Array), needle) === 0;
      case '!=':
        return (v) => Buffer.compare(Buffer.from(v as Uint8Array), needle) !== 0;
      case 'contains':
      case 'bcontains':
        return (v) => bytesIndexOf(v as Uint8Array, needle) >= 0;
      case 'startswith':
      case 'bstartswith':
        return (v) => bytesIndexOf((v as Uint8Array).subarray(0, needle.length), needle) === 0;
      case 'endswith':
        return (v) => {
          const b = v as Uint8Array;
          return b.length >= needle.length && bytesIndexOf(b.subarray(b.length - needle.length), needle) === 0;
        };
    }
  }
  const lit = value as string | number | bigint | boolean;
  switch (op) {
    case '=':
    case '==':
      return (v) => v === lit;
    case '!=':
      return (v) => v !== lit;
    case '<':
      return (v) => (v as number) < (lit as number);
    case '<=':
      return (v) => (v as number) <= (lit as number);
    case '>':
      return (v) => (v as number) > (lit as number);
    case '>=':
      return (v) => (v as number) >= (lit as number);
    case 'contains': {
      const s = lit as string;
      return (v) => (v as string).includes(s);
    }
    case 'icontains': {
      const s = (lit as string).toLowerCase();
      return (v) => (v as string).toLowerCase().includes(s);
    }
    case 'startswith': {
      const s = lit as string;
      return (v) => (v as string).startsWith(s);
    }
    case 'endswith': {
      const s = lit as string;
      return (v) => (v as string).endsWith(s);
    }
    case 'glob':
      return compileGlob(lit as string) as Cmp;
    case 'iglob':
      return compileGlob(lit as string, true) as Cmp;
    case 'regex':
      try {
        return compileRegex(lit as string) as Cmp;
      } catch (err) {
        throw new CompileError(`invalid regular expression '${String(lit)}': ${(err as Error).message}`, at);
      }
    default:
      throw new CompileError(`operator '${op}' is not supported for type ${type}`, { at: node.opAt, src: node.src });
  }
}
