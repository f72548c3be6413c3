/**
 * kube-bench's test semantics (set / compare ops / and-or), applied to values already looked up
 * from the command line, config file or environment. Kept free of I/O so every operator can be
 * tested on its own.
 */

export type CompareOp = 'eq' | 'noteq' | 'gt' | 'gte' | 'lt' | 'lte' | 'has' | 'nothave' | 'regex' | 'valid_elements' | 'bitmask';

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
  }
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
  }
}
