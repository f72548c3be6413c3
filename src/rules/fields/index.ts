/**
 * The field catalogue: every field a condition or output may name, assembled from one module per
 * field class (as libsinsp's filterchecks are), plus the `evt.arg.<name>` family resolved from the
 * event parameter table (./params).
 */
import { CONTAINER_FIELDS } from './container';
import { EVT_FIELDS } from './evt';
import { FD_FIELDS } from './fd';
import { FDLIST_FIELDS } from './fdlist';
import { FSPATH_FIELDS } from './fspath';
import type { FieldArgForm, FieldDef, FieldInfo } from './field';
import { GROUP_FIELDS } from './group';
import { K8S_FIELDS } from './k8s';
import { paramField, PARAM_NAMES } from './params';
import { PROC_FIELDS } from './proc';
import { THREAD_FIELDS } from './thread';
import { USER_FIELDS } from './user';
import { PLUGIN_SOURCES } from '../sources';

export { isNumericType, nullField, type Extractor, type FieldArgForm, type FieldDef, type FieldInfo, type FieldType } from './field';

/** By name, in `list-fields` order. */
const catalogue: ReadonlyMap<string, FieldDef> = (() => {
  const out = new Map<string, FieldDef>();
  for (const cls of [EVT_FIELDS, PROC_FIELDS, THREAD_FIELDS, USER_FIELDS, GROUP_FIELDS, FD_FIELDS, FDLIST_FIELDS, FSPATH_FIELDS, CONTAINER_FIELDS, K8S_FIELDS]) {
    for (const d of cls) {
      if (out.has(d.name)) throw new Error(`field '${d.name}' defined twice`);
      out.set(d.name, d);
    }
  }
  return out;
})();

/** Fields whose required argument may also be written as a name suffix (`evt.type.is.open`, `thread.cgroup.cpuacct`). */
const SUFFIX_ARG_FIELDS = ['evt.type.is', 'thread.cgroup'];

/** `evt.type.is.open` as the field `evt.type.is` with the argument `open` already bound. */
function suffixArgField(name: string, arg: string | undefined): FieldDef | undefined {
  if (arg !== undefined) return undefined;
  for (const base of SUFFIX_ARG_FIELDS) {
    if (!name.startsWith(base + '.')) continue;
    const def = catalogue.get(base)!;
    const suffix = name.slice(base.length + 1);
    return { ...def, name, arg: 'none', make: () => def.make(suffix) };
  }
  return undefined;
}

/** Looks a field up by name (including the `evt.arg.<name>` family). */
export function findField(name: string, arg?: string): FieldDef | undefined {
  if ((name === 'evt.arg' || name === 'evt.rawarg') && arg !== undefined && !/^\d+$/.test(arg)) return paramField(name, arg);
  return catalogue.get(name) ?? paramField(name, arg) ?? suffixArgField(name, arg);
}

/** Catalogue for `lanner list-fields`. */
export function listFields(): FieldInfo[] {
  const out: FieldInfo[] = [];
  for (const d of catalogue.values()) {
    out.push({ name: d.name, type: d.type, description: d.description, arg: d.arg, filterOnly: d.filterOnly, deprecated: d.deprecated, either: d.either, alwaysNull: d.alwaysNull === true });
  }
  for (const pname of PARAM_NAMES) {
    out.push({ name: `evt.arg.${pname}`, type: 'string', description: `the '${pname}' parameter rendered as text`, arg: 'none', filterOnly: false, deprecated: false, either: false, alwaysNull: false });
  }
  // The other sources' own fields (k8s_audit: ka.*, json.*, jevt.*); their evt.* are listed above.
  for (const src of PLUGIN_SOURCES.values()) {
    for (const d of src.fields.values()) {
      if (!catalogue.has(d.name)) out.push({ name: d.name, type: d.type, description: `${d.description} (source ${src.name})`, arg: d.arg, filterOnly: d.filterOnly, deprecated: d.deprecated, either: d.either, alwaysNull: false });
    }
  }
  return out;
}

/** Human or JSON text for `lanner list-fields [--json]`. */
export function formatFieldList(json: boolean): string {
  const fields = listFields();
  if (json) return JSON.stringify(fields, null, 2);
  const argText: Record<FieldArgForm, string> = { none: '', index: '[N]', key: '[key]', index_opt: '[N]?', key_opt: '[key]?' };
  return fields
    .map((f) => {
      const flags = [f.filterOnly ? 'filter-only' : '', f.deprecated ? 'deprecated' : '', f.alwaysNull ? 'always null' : ''].filter(Boolean).join(', ');
      return `${(f.name + argText[f.arg]).padEnd(44)} ${f.type.padEnd(8)} ${f.description}${flags ? ` (${flags})` : ''}`;
    })
    .join('\n');
}
