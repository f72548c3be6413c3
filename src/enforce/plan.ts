/**
 * What each loaded kill rule does, decided after every rules load: enforced in the kernel (its
 * slot in the kernel's tables), from user space, or refused; and the tables the kernel gets.
 */
import type { NativeKillTables } from '../probe/native';
import { EVENT_FAMILIES, eventTypeByName } from '../probe/event-types';
import type { CompiledRule } from '../rules/ruleset';
import type { EnforcementMode } from '../rules/loader';
import type { EnforcementConfig } from './config';
import { killPlacementOf, type KernelKillSpec } from './kernel-predicate';
import { kernelNamePattern } from './safeguards';

/** Sizes of the kernel's tables (events.h LNR_KILL_*; test/probe/abi.test.ts checks them). */
export const KILL_PATH_MAX = 32;
export const KILL_RULE_MAX = 16;
export const KILL_NAME_MAX = 32;

export type KillRuleStatus =
  | { readonly where: 'kernel'; readonly why: string; readonly spec: KernelKillSpec; readonly slot: number | undefined }
  | { readonly where: 'user'; readonly why: string }
  | { readonly where: 'refused'; readonly why: string };

export interface KillRulePlan {
  readonly rule: string;
  readonly mode: EnforcementMode;
  readonly status: KillRuleStatus;
}

export interface EnforcementPlan {
  /** Every enabled rule with `actions: [kill]`, by name. */
  readonly rules: ReadonlyMap<string, KillRulePlan>;
  /** Rule names by kernel slot (index into tables.rules). */
  readonly slots: readonly string[];
  /** null: nothing to enforce in the kernel. */
  readonly tables: NativeKillTables | null;
}

const LIFECYCLE: ReadonlySet<string> = new Set([...EVENT_FAMILIES.fork, 'procexit']);

/**
 * Why `kill` is not loaded on this rule, if it is not. The agent's own syscalls never reach the
 * rules (its threads are excluded in the kernel), so what is left of its work is the helpers it
 * starts (`sshd -T` for posture, `logger`, `getconf`) and their lifecycle: a rule on clone, fork or
 * process exit, or on every event type, would fire on any process, those helpers included, for
 * merely existing.
 */
export function killRefusal(rule: CompiledRule): string | undefined {
  if (rule.source !== 'syscall') return `kill needs a syscall rule (source ${rule.source})`;
  if (rule.evttypeNames.length === 0) return 'the rule matches every event type, the agent\u2019s own helpers\u2019 included';
  const life = rule.evttypeNames.filter((t) => LIFECYCLE.has(t));
  if (life.length > 0) return `the rule matches process lifecycle events (${life.join(', ')}), which the agent\u2019s own helpers produce too`;
  return undefined;
}

const OPEN_ID = eventTypeByName('open')!.id;

function typeBits(types: readonly string[]): number {
  let bits = 0;
  for (const t of types) bits |= 1 << (eventTypeByName(t)!.id - OPEN_ID);
  return bits;
}

/** The plan for a ruleset's kill rules under this configuration. */
export function planEnforcement(rules: readonly CompiledRule[], config: EnforcementConfig): EnforcementPlan {
  const out = new Map<string, KillRulePlan>();
  const names: { name: string; prefix: boolean }[] = [];
  const nameIndex = new Map<string, number>();
  const nameSlot = (n: { name: string; prefix: boolean }): number | undefined => {
    const key = `${n.prefix ? 'p' : 'e'}:${n.name}`;
    let i = nameIndex.get(key);
    if (i === undefined) {
      if (names.length >= KILL_NAME_MAX) return undefined;
      i = names.push(n) - 1;
      nameIndex.set(key, i);
    }
    return i;
  };
  let protectedMask = 0;
  for (const p of config.protected) {
    const i = nameSlot(kernelNamePattern(p));
    if (i !== undefined) protectedMask |= 1 << i;
  }
  const paths: NativeKillTables['paths'][number][] = [];
  const ruleRows: NativeKillTables['rules'][number][] = [];
  const slots: string[] = [];
  const intervalNs = Math.round(1e9 / config.rate.per_second);

  for (const rule of rules) {
    if (!rule.enabled || !rule.actions.includes('kill')) continue;
    const mode = rule.enforcement ?? config.mode;
    const refusal = killRefusal(rule);
    if (refusal !== undefined) {
      out.set(rule.name, { rule: rule.name, mode, status: { where: 'refused', why: refusal } });
      continue;
    }
    const placement = killPlacementOf(rule);
    if (placement.where === 'user') {
      out.set(rule.name, { rule: rule.name, mode, status: placement });
      continue;
    }
    if (!config.kernel) {
      out.set(rule.name, { rule: rule.name, mode, status: { where: 'user', why: 'enforcement.kernel is false' } });
      continue;
    }
    // Monitor-mode rules keep their placement (what enforcing would do) but get no kernel slot.
    let slot: number | undefined;
    if (mode === 'enforce') {
      const full = (what: string): KillRulePlan => ({ rule: rule.name, mode, status: { where: 'user', why: `the kernel's ${what} table is full` } });
      if (slots.length >= KILL_RULE_MAX) {
        out.set(rule.name, full('rule'));
        continue;
      }
      if (paths.length + placement.spec.paths.length > KILL_PATH_MAX) {
        out.set(rule.name, full('path'));
        continue;
      }
      let exempt = 0;
      let fits = true;
      for (const n of placement.spec.exempt) {
        const i = nameSlot({ name: n, prefix: false });
        if (i === undefined) fits = false;
        else exempt |= 1 << i;
      }
      if (!fits) {
        out.set(rule.name, full('name'));
        continue;
      }
      slot = slots.push(rule.name) - 1;
      for (const p of placement.spec.paths) paths.push({ path: p.path, exact: p.exact, rule: slot });
      ruleRows.push({
        types: typeBits(placement.spec.types),
        access: (placement.spec.needsRead ? 1 : 0) | (placement.spec.needsWrite ? 2 : 0) | (placement.spec.needsFile ? 8 : 0),
        exempt: exempt >>> 0,
        intervalNs,
        toleranceNs: (config.rate.burst - 1) * intervalNs,
      });
    }
    out.set(rule.name, { rule: rule.name, mode, status: { where: 'kernel', why: placement.why, spec: placement.spec, slot } });
  }
  return { rules: out, slots, tables: slots.length === 0 ? null : { paths, rules: ruleRows, names, protectedMask: protectedMask >>> 0 } };
}
