/**
 * Which kill rules the kernel can enforce, and the check it runs for them (native/bpf/lib/enforce.h).
 *
 * Unlike the open filter (src/rules/open-filter.ts), which over-approximates so that nothing a rule
 * could match is lost, this recognizer is exact: killing must never rest on a guess. A rule is
 * accepted only when its whole condition is a conjunction of checks the kernel evaluates exactly as
 * the engine does, on a successful open whose path the kernel can judge:
 *   - the rule's event types are all open-family (`evt.type = / in` checks narrow them);
 *   - exactly one path check: `fd.name = P`, `fd.name in (P, …)`, `fd.name startswith P`, or an
 *     `or` of such checks, every P absolute, normalised, at most LNR_KILL_PATH_LEN bytes;
 *   - `evt.is_open_read = true`, `evt.is_open_write = true`, `fd.typechar = f` (no O_DIRECTORY; as
 *     in Falco's open_read macro): openat2, whose flags the kernel cannot read, is then left to
 *     user space;
 *   - `not proc.name in (…)`, `not proc.name = N`, `proc.name != N` exemptions (names of at most 15
 *     bytes: longer ones can never equal a comm, which the kernel could not tell);
 *   - `evt.rawres >= 0`, `fd.num >= 0`, `evt.failed = false`: the kernel only acts on success anyway.
 * Anything else leaves the rule to user space, with the first check the kernel cannot run as the
 * reason. What the kernel does not judge (a relative or non-normalised path, a directory alias, a
 * failed open) still matches in user space, which then kills: user space is the fallback, never
 * the other way round.
 */
import type { CheckNode, ConditionNode } from '../rules/ast';
import { printCondition } from '../rules/ast';
import type { CompiledRule } from '../rules/ruleset';
import { EVENT_FAMILIES } from '../probe/event-types';
import { COMM_NAME_MAX } from '../probe/layout';

/** Longest path the kernel's kill table holds (LNR_KILL_PATH_LEN). */
export const KILL_PATH_LEN = 128;
/** Paths longer than this (bytes, with the NUL) are never judged in the kernel (KILL_PATH_WINDOW). */
export const KILL_PATH_WINDOW = 256;

export interface KillPath {
  readonly path: string;
  /** true: fd.name equals the path; false: fd.name starts with it. */
  readonly exact: boolean;
}

/** The kernel's check for one rule. */
export interface KernelKillSpec {
  /** Open-family event types the kernel kills on. */
  readonly types: readonly string[];
  readonly paths: readonly KillPath[];
  readonly needsRead: boolean;
  readonly needsWrite: boolean;
  /** `fd.typechar = f`: opened without O_DIRECTORY (the state's fd type for a successful open). */
  readonly needsFile: boolean;
  /** Process names (proc.name) the rule exempts. */
  readonly exempt: readonly string[];
}

export type KillPlacement =
  | { readonly where: 'kernel'; readonly spec: KernelKillSpec; readonly why: string }
  | { readonly where: 'user'; readonly why: string };

const OPEN_TYPES: ReadonlySet<string> = new Set(EVENT_FAMILIES.open);

/**
 * Whether a rule's path literal is one the kernel compares: absolute, without `//`, `.` or `..`
 * components (the kernel judges only paths user space keeps as they are, so a literal user space
 * would normalise could never be compared byte for byte), at most the judged window.
 */
export function kernelComparesPath(path: string): boolean {
  const bytes = Buffer.byteLength(path);
  if (bytes === 0 || bytes + 1 > KILL_PATH_WINDOW || !path.startsWith('/') || path.includes('\0')) return false;
  return !(path.includes('//') || path.includes('/./') || path.includes('/../') || path.endsWith('/.') || path.endsWith('/..'));
}

function values(check: CheckNode): string[] | undefined {
  const rhs = check.rhs;
  if (rhs?.kind === 'literal') return [rhs.value];
  if (rhs?.kind === 'list') return rhs.items.map((i) => i.value);
  return undefined;
}

function fieldName(check: CheckNode): string | undefined {
  if (check.lhs.kind !== 'field' || check.modifier !== undefined) return undefined;
  return check.lhs.arg === undefined ? check.lhs.name : `${check.lhs.name}[${check.lhs.arg}]`;
}

const NOT_A_PATH_CHECK = 'not a path check';
const isEquality = (op: string): boolean => op === '=' || op === '==';

/** The paths of a path check, or the reason it is not one the kernel runs. */
function pathsOf(node: ConditionNode): KillPath[] | string {
  if (node.kind === 'or') {
    const out: KillPath[] = [];
    for (const child of node.children) {
      const p = pathsOf(child);
      if (typeof p === 'string') return p;
      out.push(...p);
    }
    return out;
  }
  if (node.kind !== 'check' || fieldName(node) !== 'fd.name') return NOT_A_PATH_CHECK;
  const vals = values(node);
  if (vals === undefined) return NOT_A_PATH_CHECK;
  const exact = isEquality(node.op) || node.op === 'in';
  if (!exact && !(node.op === 'startswith' && vals.length === 1)) return `fd.name ${node.op} is not a kernel comparison`;
  for (const v of vals) {
    if (!kernelComparesPath(v)) return `'${v}' is not an absolute normalised path the kernel compares`;
    if (Buffer.byteLength(v) > KILL_PATH_LEN) return `'${v}' is longer than ${KILL_PATH_LEN} bytes`;
    // An exact path ending in '/' is a directory opened by that name, which the kernel never judges.
    if (exact && v.endsWith('/')) return `'${v}' ends in '/'`;
  }
  return vals.map((path) => ({ path, exact }));
}

/** Exempted names of `not proc.name in (…)`, `not proc.name = N`, `proc.name != N`; undefined: not an exemption. */
function exemptionOf(node: ConditionNode): string[] | undefined {
  let check: ConditionNode = node;
  let negated = false;
  if (check.kind === 'not') {
    check = check.child;
    negated = true;
  }
  if (check.kind !== 'check' || fieldName(check) !== 'proc.name') return undefined;
  const vals = values(check);
  if (vals === undefined) return undefined;
  if (negated && (isEquality(check.op) || check.op === 'in')) return vals;
  if (!negated && check.op === '!=') return vals;
  return undefined;
}

function flatten(node: ConditionNode, out: ConditionNode[]): void {
  if (node.kind === 'and') for (const c of node.children) flatten(c, out);
  else out.push(node);
}

/** Where a kill rule is enforced: in the kernel (with the check it runs) or from user space, and why. */
export function killPlacementOf(rule: CompiledRule): KillPlacement {
  const user = (why: string): KillPlacement => ({ where: 'user', why });
  if (rule.evttypeNames.length === 0 || !rule.evttypeNames.every((t) => OPEN_TYPES.has(t))) {
    return user('its event types are not all opens (the kernel kills only at an open)');
  }
  let types = new Set(rule.evttypeNames);
  let paths: KillPath[] | undefined;
  let needsRead = false;
  let needsWrite = false;
  let needsFile = false;
  const exempt: string[] = [];
  const conjuncts: ConditionNode[] = [];
  flatten(rule.expandedCondition, conjuncts);
  for (const node of conjuncts) {
    const printed = printCondition(node);
    const text = printed.length > 120 ? `${printed.slice(0, 117)}...` : printed;
    if (node.kind === 'check') {
      const field = fieldName(node);
      const vals = values(node);
      if (field === 'evt.type' && vals !== undefined && (isEquality(node.op) || node.op === 'in')) {
        types = new Set([...types].filter((t) => vals.includes(t)));
        continue;
      }
      if ((field === 'evt.is_open_read' || field === 'evt.is_open_write') && isEquality(node.op) && vals?.[0] === 'true') {
        if (field === 'evt.is_open_read') needsRead = true;
        else needsWrite = true;
        continue;
      }
      if (field === 'fd.typechar' && isEquality(node.op) && vals?.length === 1 && vals[0] === 'f') {
        needsFile = true;
        continue;
      }
      // Success: the kernel acts only at a successful open's exit.
      const v = vals?.length === 1 ? vals[0] : undefined;
      if ((field === 'evt.rawres' || field === 'fd.num') && node.op === '>=' && v === '0') continue;
      if (field === 'evt.failed' && isEquality(node.op) && v === 'false') continue;
    }
    const names = exemptionOf(node);
    if (names !== undefined) {
      const long = names.find((n) => Buffer.byteLength(n) > COMM_NAME_MAX || n.length === 0);
      if (long !== undefined) return user(`exempted name '${long}' is not a 1 to ${COMM_NAME_MAX} byte process name`);
      exempt.push(...names);
      continue;
    }
    const p = pathsOf(node);
    if (typeof p !== 'string') {
      if (paths !== undefined) return user('more than one path check (the kernel compares one path set)');
      paths = p;
      continue;
    }
    return user(p === NOT_A_PATH_CHECK ? `'${text}' is not a check the kernel evaluates exactly` : p);
  }
  if (paths === undefined || paths.length === 0) return user('no fd.name path check: the kernel kills only on named paths');
  // openat2 keeps its flags in user memory, which the kernel's check does not read.
  if (needsRead || needsWrite || needsFile) types.delete('openat2');
  if (types.size === 0) return user('no open type the kernel can check is left');
  const spec: KernelKillSpec = { types: [...types].sort(), paths, needsRead, needsWrite, needsFile, exempt: [...new Set(exempt)].sort() };
  const left = EVENT_FAMILIES.open.filter((t) => rule.evttypeNames.includes(t) && !types.has(t));
  return {
    where: 'kernel',
    spec,
    why:
      `the condition compiles exactly to the kernel's open check (${paths.length} path${paths.length === 1 ? '' : 's'})` +
      (left.length > 0 ? `; ${left.join(', ')} from user space` : '') +
      '; relative or non-normalised paths and failed opens from user space',
  };
}
