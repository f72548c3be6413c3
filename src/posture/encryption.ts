/**
 * Encryption at rest: reads the EncryptionConfiguration as YAML and judges the provider that
 * encrypts new writes of secrets. Unlike a text scan of the last `providers:` line, this follows
 * the API server's own rules: resource entries are matched in order (the first entry naming
 * `secrets`, `*.` or `*.*` governs secrets) and the first provider of that entry is the writer.
 */
import { parseDocument } from 'yaml';
import type { CheckStatus } from './types';

export const KNOWN_PROVIDERS: ReadonlySet<string> = new Set(['identity', 'aescbc', 'aesgcm', 'secretbox', 'kms']);
const STRONG_PROVIDERS: ReadonlySet<string> = new Set(['aescbc', 'secretbox', 'kms']);
const SECRETS_SELECTORS: ReadonlySet<string> = new Set(['secrets', '*.', '*.*']);

export interface EncryptionVerdict {
  readonly status: CheckStatus;
  readonly actual: string;
  readonly note?: string;
}

export interface ResourceEntry {
  readonly resources: readonly string[];
  readonly providers: readonly string[];
}

function providerNames(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((p) => (p !== null && typeof p === 'object' && !Array.isArray(p) ? Object.keys(p as object).join('+') || '(empty)' : String(p)));
}

/** The resource entries of an EncryptionConfiguration, or an error text. */
export function parseEncryptionConfig(text: string): { entries: ResourceEntry[] } | { error: string } {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) return { error: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const root: unknown = doc.toJS();
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return { error: 'not a YAML mapping' };
  const obj = root as Record<string, unknown>;
  if (obj['kind'] !== 'EncryptionConfiguration') return { error: `kind is ${JSON.stringify(obj['kind'] ?? null)}, not EncryptionConfiguration` };
  const resources = obj['resources'];
  if (!Array.isArray(resources)) return { error: 'no resources list' };
  const entries: ResourceEntry[] = [];
  for (const r of resources) {
    if (r === null || typeof r !== 'object') continue;
    const rec = r as Record<string, unknown>;
    const names = Array.isArray(rec['resources']) ? rec['resources'].map(String) : [];
    entries.push({ resources: names, providers: providerNames(rec['providers']) });
  }
  return { entries };
}

/** Judges a parsed configuration; `file` is only used in texts. */
export function judgeEncryption(entries: readonly ResourceEntry[]): EncryptionVerdict {
  const unknown = new Set<string>();
  for (const e of entries) for (const p of e.providers) if (!KNOWN_PROVIDERS.has(p)) unknown.add(p);
  const unknownText = unknown.size > 0 ? `unknown provider(s): ${[...unknown].join(', ')}` : undefined;

  const index = entries.findIndex((e) => e.resources.some((r) => SECRETS_SELECTORS.has(r)));
  if (index < 0) {
    return { status: 'FAIL', actual: `no resource entry covers secrets; secrets are stored unencrypted${unknownText ? `; ${unknownText}` : ''}` };
  }
  const entry = entries[index]!;
  const first = entry.providers[0];
  const where = `entry ${index + 1} [${entry.resources.join(',')}] providers ${entry.providers.join(',') || '(none)'}`;
  if (first === undefined) return { status: 'FAIL', actual: `secrets: ${where}: no provider` };
  if (first === 'identity') return { status: 'FAIL', actual: `secrets written in plain text: identity is the first provider in ${where}` };
  if (!KNOWN_PROVIDERS.has(first)) return { status: 'WARN', actual: `secrets: first provider '${first}' is not a known provider (${where})` };
  if (unknownText) return { status: 'WARN', actual: `secrets: ${first} (${where}); ${unknownText}` };
  if (first === 'aesgcm') {
    return {
      status: 'PASS',
      actual: `secrets: aesgcm (${where})`,
      note: 'aesgcm encrypts, but its key must be rotated every 200k writes and kube-bench does not accept it; prefer aescbc, secretbox or kms v2',
    };
  }
  if (STRONG_PROVIDERS.has(first)) return { status: 'PASS', actual: `secrets: ${first} (${where})` };
  return { status: 'WARN', actual: `secrets: ${first} (${where})` };
}

/** The whole check: flag missing or file unreadable fail, otherwise the parsed verdict. */
export function evaluateEncryption(flagValue: string | undefined, text: string | undefined, readError?: string): EncryptionVerdict {
  if (flagValue === undefined) return { status: 'FAIL', actual: '--encryption-provider-config not set; secrets are stored unencrypted' };
  if (text === undefined) return { status: 'FAIL', actual: `${flagValue}: cannot read (${readError ?? 'missing'})` };
  const parsed = parseEncryptionConfig(text);
  if ('error' in parsed) return { status: 'FAIL', actual: `${flagValue}: ${parsed.error}` };
  return judgeEncryption(parsed.entries);
}
