/**
 * Agent configuration: one YAML file (default /etc/lanner/lanner.yaml, else the packaged
 * lanner.yaml), every key overridable with `-o key=value`, validated at start. Defaults live only
 * in the packaged lanner.yaml; the schemas here validate and never invent values, so the file a
 * user copies is the whole truth.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml, parseDocument, isMap, LineCounter } from 'yaml';
import { z } from 'zod';
import { auditConfigSchema } from './audit/config';
import { captureConfigSchema } from './capture/config';
import { enforcementConfigSchema } from './enforce/config';
import { dropsConfigSchema } from './outputs/drops-config';
import { metricsConfigSchema } from './metrics/config';
import { appendOutputSchema, outputsConfigSchema, priorityName, redactionSchema, staticFieldsSchema } from './outputs/config';
import { postureConfigSchema } from './posture/config';
import { probeConfigSchema } from './probe/config';
import { stateConfigSchema } from './state/config';
import { PACKAGE_DIR } from './package';

export const PACKAGED_CONFIG = resolve(PACKAGE_DIR, 'lanner.yaml');
export const DEFAULT_CONFIG = '/etc/lanner/lanner.yaml';

export const configSchema = z
  .object({
    rules_files: z.array(z.string().min(1)).min(1),
    rule_matching: z.enum(['first', 'all']),
    priority: priorityName,
    watch_rules: z.boolean(),
    hostname: z.string(),
    run_dir: z.string().min(1),
    log: z.object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), pretty: z.boolean() }).strict(),
    probe: probeConfigSchema,
    engine: z
      .object({
        queue_capacity: z.number().int().min(1),
        latency_sample_every: z.number().int().min(1),
        append_container_fields: z.boolean(),
        slice_ms: z.number().int().min(1).max(10_000),
        watch_debounce_ms: z.number().int().min(0).max(60_000),
        allow_empty_rules: z.boolean(),
        reload_memory_mb: z.number().int().min(8).max(4096),
      })
      .strict(),
    state: stateConfigSchema,
    outputs: outputsConfigSchema,
    append_output: appendOutputSchema,
    static_fields: staticFieldsSchema,
    redaction: redactionSchema,
    drops: dropsConfigSchema,
    metrics: metricsConfigSchema,
    posture: postureConfigSchema,
    audit: auditConfigSchema,
    capture: captureConfigSchema,
    enforcement: enforcementConfigSchema,
  })
  .strict();

export type LannerConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses `key.path=value`; the value is read as a YAML scalar or flow collection (`true`, `3`, `[a, b]`). */
export function parseOverride(text: string): { path: string[]; value: unknown } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`option '-o ${text}': expected key=value`);
  const key = text.slice(0, eq).trim();
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(key)) throw new ConfigError(`option '-o ${text}': '${key}' is not a key path`);
  const raw = text.slice(eq + 1);
  let value: unknown;
  try {
    value = raw === '' ? '' : parseYaml(raw);
  } catch {
    value = raw;
  }
  return { path: key.split('.'), value };
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node: Record<string, unknown> = target;
  for (let i = 0; i < path.length - 1; i++) {
    const k = path[i]!;
    const next = node[k];
    if (next === undefined || next === null) {
      node[k] = {};
    } else if (typeof next !== 'object' || Array.isArray(next)) {
      throw new ConfigError(`option '-o ${path.join('.')}': '${path.slice(0, i + 1).join('.')}' is not a section`);
    }
    node = node[k] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function readYamlFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lineCounter.linePos(e.pos[0]);
    throw new ConfigError(`${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  if (doc.contents === null) return {};
  if (!isMap(doc.contents)) throw new ConfigError(`${file}: the config must be a mapping of keys`);
  return doc.toJS() as Record<string, unknown>;
}

/** Deep merge: a user file only needs the keys it changes. Arrays and scalars replace. */
function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      out[k] = merge(b as Record<string, unknown>, v as Record<string, unknown>);
    } else {
      out[k] = v;
    }
  }
  return out;
}

function formatIssue(issue: z.ZodIssue): string {
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length ? `${issue.path.join('.')}.` : '';
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${where}${k}'`).join(', ')}`;
  }
  return `'${key}': ${issue.message}`;
}

export interface LoadedConfig {
  readonly config: LannerConfig;
  /** Files read, packaged defaults first. */
  readonly files: readonly string[];
}

/**
 * Loads the packaged defaults, then the user file (explicit `-c`, else /etc/lanner/lanner.yaml if
 * present), then the `-o` overrides, and validates the result.
 */
export function loadConfig(opts: { file?: string; overrides?: readonly string[] } = {}): LoadedConfig {
  const files = [PACKAGED_CONFIG];
  let merged = readYamlFile(PACKAGED_CONFIG);
  const userFile = opts.file ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined);
  if (opts.file !== undefined && !existsSync(opts.file)) throw new ConfigError(`config file ${opts.file} does not exist`);
  if (userFile) {
    merged = merge(merged, readYamlFile(userFile));
    files.push(userFile);
  }
  for (const o of opts.overrides ?? []) {
    const { path, value } = parseOverride(o);
    setPath(merged, path, value);
  }
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${parsed.error.issues.map(formatIssue).join('; ')}`);
  }
  return { config: parsed.data, files };
}
