/**
 * Event sources besides `syscall` whose rules Lanner runs (Falco's plugin sources, provided
 * natively): each has its own field catalogue, so a rule of one source cannot name another
 * source's fields, and its rules compile into their own ruleset (`CompiledRuleset.sources`).
 */
import type { FieldDef } from './fields/field';
import { JSON_EVT_FIELDS, JSON_FIELDS } from './fields/jevt';
import { KA_FIELDS } from './fields/ka';

export const K8S_AUDIT_SOURCE = 'k8s_audit';

export interface EventSourceInfo {
  readonly name: string;
  /** The Falco plugin that provides this source (`evt.pluginname`). */
  readonly pluginName: string;
  readonly fields: ReadonlyMap<string, FieldDef>;
  /** The catalogue lookup the condition compiler takes (`FieldLookup`). */
  readonly lookup: (name: string, arg: string | undefined) => FieldDef | undefined;
}

function sourceInfo(name: string, pluginName: string, classes: readonly (readonly FieldDef[])[]): EventSourceInfo {
  const fields = new Map<string, FieldDef>();
  for (const cls of classes) {
    for (const d of cls) {
      if (fields.has(d.name)) throw new Error(`field '${d.name}' defined twice for source ${name}`);
      fields.set(d.name, d);
    }
  }
  return { name, pluginName, fields, lookup: (n) => fields.get(n) };
}

/** By source name. */
export const PLUGIN_SOURCES: ReadonlyMap<string, EventSourceInfo> = new Map([
  [K8S_AUDIT_SOURCE, sourceInfo(K8S_AUDIT_SOURCE, 'k8saudit', [JSON_EVT_FIELDS, KA_FIELDS, JSON_FIELDS])],
]);
