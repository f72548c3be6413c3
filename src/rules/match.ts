/**
 * Matchers whose running time is bounded by the input size for any user pattern: glob with a
 * single backtrack point (O(n·m) worst case, never exponential), path-prefix matching and CIDR
 * tests. Regexes go through re2js (linear-time RE2), never a backtracking engine.
 */
import { RE2JS } from 're2js';

interface GlobToken {
  /** 0 literal char, 1 '?', 2 '*', 3 class. */
  readonly kind: 0 | 1 | 2 | 3;
  readonly ch: string;
  readonly ranges: readonly (readonly [string, string])[];
  readonly negate: boolean;
}

function tokenizeGlob(pattern: string, fold: boolean): GlobToken[] {
  const out: GlobToken[] = [];
  const p = fold ? pattern.toLowerCase() : pattern;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '*') {
      if (out.length === 0 || out[out.length - 1]!.kind !== 2) out.push({ kind: 2, ch: '', ranges: [], negate: false });
    } else if (c === '?') out.push({ kind: 1, ch: '', ranges: [], negate: false });
    else if (c === '\\' && i + 1 < p.length) out.push({ kind: 0, ch: p[++i]!, ranges: [], negate: false });
    else if (c === '[') {
      let j = i + 1;
      let negate = false;
      if (p[j] === '!' || p[j] === '^') {
        negate = true;
        j++;
      }
      const ranges: [string, string][] = [];
      let first = true;
      while (j < p.length && (p[j] !== ']' || first)) {
        first = false;
        const lo = p[j]!;
        if (p[j + 1] === '-' && j + 2 < p.length && p[j + 2] !== ']') {
          ranges.push([lo, p[j + 2]!]);
          j += 3;
        } else {
          ranges.push([lo, lo]);
          j++;
        }
      }
      if (j >= p.length) out.push({ kind: 0, ch: '[', ranges: [], negate: false });
      else {
        out.push({ kind: 3, ch: '', ranges, negate });
        i = j;
      }
    } else out.push({ kind: 0, ch: c, ranges: [], negate: false });
  }
  return out;
}

function tokenMatches(t: GlobToken, c: string): boolean {
  if (t.kind === 1) return true;
  if (t.kind === 0) return t.ch === c;
  let hit = false;
  for (const [lo, hi] of t.ranges) {
    if (c >= lo && c <= hi) {
      hit = true;
      break;
    }
  }
  return hit !== t.negate;
}

export type StringMatcher = (s: string) => boolean;

/** fnmatch-style glob without FNM_PATHNAME ('*' crosses '/'), as Falco's `glob`. */
export function compileGlob(pattern: string, caseInsensitive = false): StringMatcher {
  const toks = tokenizeGlob(pattern, caseInsensitive);
  if (toks.every((t) => t.kind === 0)) {
    const lit = toks.map((t) => t.ch).join('');
    return caseInsensitive ? (s) => s.toLowerCase() === lit : (s) => s === lit;
  }
  return (input) => {
    const s = caseInsensitive ? input.toLowerCase() : input;
    let si = 0;
    let ti = 0;
    let starT = -1;
    let starS = 0;
    while (si < s.length) {
      const t = toks[ti];
      if (t !== undefined && t.kind === 2) {
        starT = ti++;
        starS = si;
      } else if (t !== undefined && tokenMatches(t, s[si]!)) {
        ti++;
        si++;
      } else if (starT >= 0) {
        ti = starT + 1;
        si = ++starS;
      } else return false;
    }
    while (ti < toks.length && toks[ti]!.kind === 2) ti++;
    return ti === toks.length;
  };
}

/**
 * `pmatch`: the path equals one of the prefixes or lies under it, whole components only. Prefixes
 * with wildcards are matched component by component against the path's leading components.
 */
export function compilePathMatch(prefixes: readonly string[]): StringMatcher {
  const plain = new Set<string>();
  const globbed: { parts: StringMatcher[] }[] = [];
  let matchAll = false;
  for (const raw of prefixes) {
    const p = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
    if (p === '/') matchAll = true;
    else if (/[*?[]/.test(p)) globbed.push({ parts: p.split('/').map((x) => compileGlob(x)) });
    else plain.add(p);
  }
  // Distinct prefix lengths: a path is tested only at lengths where a component boundary falls.
  const lengths = [...new Set([...plain].map((p) => p.length))].sort((a, b) => a - b);
  return (path) => {
    if (matchAll) return path.startsWith('/');
    for (let k = 0; k < lengths.length; k++) {
      const len = lengths[k]!;
      if (len > path.length) break;
      if ((len === path.length || path.charCodeAt(len) === 47) && plain.has(len === path.length ? path : path.slice(0, len))) return true;
    }
    if (globbed.length > 0) {
      const comps = path.split('/');
      for (const g of globbed) {
        if (g.parts.length > comps.length) continue;
        let ok = true;
        for (let k = 0; k < g.parts.length && ok; k++) ok = g.parts[k]!(comps[k]!);
        if (ok) return true;
      }
    }
    return false;
  };
}

/** Full, anchored RE2 match (Falco's `regex`). Throws on an invalid pattern. */
export function compileRegex(pattern: string): StringMatcher {
  const re = RE2JS.compile(pattern);
  return (s) => re.matches(s);
}

// ---------------------------------------------------------------------------------------------
// IP addresses and networks.

export interface IpNet {
  readonly v6: boolean;
  readonly addr: bigint;
  readonly bits: number;
  /** IPv4 network and mask as unsigned 32-bit numbers (fast path without BigInt). */
  readonly v4net: number;
  readonly v4mask: number;
}

/** Dotted quad to uint32, or -1; no allocation. */
function fastV4(s: string): number {
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      acc = acc * 256 + part;
      part = 0;
      digits = 0;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  let text = s;
  let tail: bigint | undefined;
  let tailGroups = 0;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.') && lastColon >= 0) {
    tail = parseV4(text.slice(lastColon + 1));
    if (tail === undefined) return undefined;
    text = text.slice(0, lastColon + 1) + '0:0';
    tailGroups = 2;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return undefined;
  const groups = [...head, ...new Array<string>(fill).fill('0'), ...rest];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== undefined && tailGroups) v = (v & ~0xffffffffn) | tail;
  return v;
}

function parseIp(s: string): { v6: boolean; addr: bigint } | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, addr: v4 };
  const v6 = s.includes(':') ? parseV6(s.startsWith('[') && s.endsWith(']') ? s.slice(1, -1) : s) : undefined;
  return v6 === undefined ? undefined : { v6: true, addr: v6 };
}

/** `10.0.0.0/8`, `::1/128` or a bare address (a /32 or /128 network). */
export function parseNet(s: string): IpNet | undefined {
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return undefined;
  const max = ip.v6 ? 128 : 32;
  const bits = slash < 0 ? max : Number(s.slice(slash + 1));
  if (!Number.isInteger(bits) || bits < 0 || bits > max || (slash >= 0 && !/^\d+$/.test(s.slice(slash + 1)))) return undefined;
  const shift = BigInt(max - bits);
  const addr = (ip.addr >> shift) << shift;
  const v4mask = ip.v6 || bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { v6: ip.v6, addr, bits, v4net: ip.v6 ? 0 : Number(addr), v4mask };
}

export function netContains(net: IpNet, ipText: string): boolean {
  if (!net.v6) {
    const v = fastV4(ipText);
    if (v >= 0) return ((v & net.v4mask) >>> 0) === net.v4net;
  }
  const ip = parseIp(ipText);
  if (!ip || ip.v6 !== net.v6) return false;
  const shift = BigInt((net.v6 ? 128 : 32) - net.bits);
  return (ip.addr >> shift) << shift === net.addr;
}
