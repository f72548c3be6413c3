/**
 * kube-bench's test semantics (set / compare ops / and-or), applied to values already looked up
 * from the command line, config file or environment. Kept free of I/O so every operator can be
 * tested on its own.
 */

/**
 * kube-bench's operators, plus `url_scheme` (Lanner's): every comma-separated URL uses the scheme
 * `value` (etcd's client and peer URLs).
 */
export type CompareOp = 'eq' | 'noteq' | 'gt' | 'gte' | 'lt' | 'lte' | 'has' | 'nothave' | 'regex' | 'valid_elements' | 'bitmask' | 'url_scheme';

export interface Compare {
  readonly op: CompareOp;
  readonly value: string;
}

const INTEGER = /^[+-]?\d+$/;

function normaliseBool(v: string): string {
  const l = v.toLowerCase();
  return l === 'true' || l === 'false' ? l : v;
}

function splitElements(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** True iff `actual` satisfies the comparison. Integer ops fail on non-integers (e.g. `5m`). */
export function compareValue(actual: string, cmp: Compare): boolean {
  switch (cmp.op) {
    case 'eq':
      return normaliseBool(actual) === cmp.value;
    case 'noteq':
      return normaliseBool(actual) !== cmp.value;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      if (!INTEGER.test(actual.trim()) || !INTEGER.test(cmp.value)) return false;
      const a = Number.parseInt(actual, 10);
      const e = Number.parseInt(cmp.value, 10);
      if (cmp.op === 'gt') return a > e;
      if (cmp.op === 'gte') return a >= e;
      if (cmp.op === 'lt') return a < e;
      return a <= e;
    }
    case 'has':
      return actual.includes(cmp.value);
    case 'nothave':
      return !actual.includes(cmp.value);
    case 'regex':
      // Unanchored search, as kube-bench's Go regexp MatchString.
      return new RegExp(cmp.value).test(actual);
    case 'valid_elements': {
      const have = splitElements(actual);
      const allowed = new Set(splitElements(cmp.value));
      if (have.length === 0 && allowed.size === 0) return true;
      if (have.length === 0 || allowed.size === 0) return false;
      return have.every((h) => allowed.has(h));
    }
    case 'bitmask': {
      const a = Number.parseInt(actual, 8);
      const e = Number.parseInt(cmp.value, 8);
      if (!/^[0-7]+$/.test(actual) || Number.isNaN(e)) return false;
      return (e & a) === a;
    }
    case 'url_scheme': {
      const urls = splitElements(actual);
      const prefix = `${cmp.value}://`;
      return urls.length > 0 && urls.every((u) => u.toLowerCase().startsWith(prefix));
    }
  }
}

const DURATION_UNIT_NS: Readonly<Record<string, number>> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * A Go `time.Duration` text (`5m`, `4h0m0s`, `1.5h`, `0`) in nanoseconds; undefined when Go would
 * reject it. Kubernetes components read duration flags and config fields this way, so `0s`,
 * `0m0s` and `0` are all zero.
 */
export function parseGoDuration(text: string): number | undefined {
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < s.length) {
    const m = DURATION_PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNIT_NS[m[2]!]!;
  }
  return total === 0 ? 0 : sign * total;
}

/** Human text for what a test item expects, used in results and reports. */
export function describeCompare(cmp: Compare): string {
  switch (cmp.op) {
    case 'eq':
      return `= ${cmp.value}`;
    case 'noteq':
      return `!= ${cmp.value}`;
    case 'gt':
      return `> ${cmp.value}`;
    case 'gte':
      return `>= ${cmp.value}`;
    case 'lt':
      return `< ${cmp.value}`;
    case 'lte':
      return `<= ${cmp.value}`;
    case 'has':
      return `contains ${cmp.value}`;
    case 'nothave':
      return `does not contain ${cmp.value}`;
    case 'regex':
      return `matches /${cmp.value}/`;
    case 'valid_elements':
      return `only elements of {${cmp.value}}`;
    case 'bitmask':
      return `mode ${cmp.value} or stricter`;
    case 'url_scheme':
      return `only ${cmp.value}:// URLs`;
  }
}
