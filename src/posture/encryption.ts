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

/** Key sizes (bytes) each local provider accepts. */
const KEY_BYTES: Readonly<Record<string, readonly number[]>> = { aescbc: [16, 24, 32], aesgcm: [16, 24, 32], secretbox: [32] };
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function judgeKey(provider: string, key: unknown, index: number): string | undefined {
  if (key === null || typeof key !== 'object') return `${provider} key ${index + 1} is not a mapping`;
  const k = key as Record<string, unknown>;
  const name = typeof k['name'] === 'string' ? k['name'] : `#${index + 1}`;
  const secret = k['secret'];
  if (typeof secret !== 'string' || secret.trim() === '') return `${provider} key ${name} has no secret`;
  const s = secret.trim();
  if (s.length % 4 !== 0 || !BASE64.test(s)) return `${provider} key ${name} is not base64`;
  const bytes = Buffer.from(s, 'base64');
  if (!KEY_BYTES[provider]!.includes(bytes.length)) return `${provider} key ${name} is ${bytes.length} bytes (${provider} takes ${KEY_BYTES[provider]!.join('/')})`;
  // A key of one repeated byte (all zeros, a placeholder) is no secret.
  if (bytes.every((b) => b === bytes[0])) return `${provider} key ${name} is a placeholder (one repeated byte)`;
  return undefined;
}

/**
 * Lanner's check of the encryption config file's content: the provider writing secrets is not
 * identity, and every key of the local providers (aescbc, aesgcm, secretbox) is a real key of
 * the right size. KMS keeps its key outside the file.
 */
export function judgeEncryptionKeys(text: string): { passed: boolean; actual: string } {
  const doc = parseDocument(text, { prettyErrors: false });
  const parsed = parseEncryptionConfig(text);
  if ('error' in parsed) return { passed: false, actual: parsed.error };
  const root = doc.toJS() as { resources?: Array<{ resources?: unknown; providers?: unknown }> };
  const problems: string[] = [];
  const index = parsed.entries.findIndex((e) => e.resources.some((r) => SECRETS_SELECTORS.has(r)));
  if (index < 0) problems.push('no resource entry covers secrets');
  else if (parsed.entries[index]!.providers[0] === 'identity') problems.push(`identity is the first provider for secrets (entry ${index + 1})`);
  else if (parsed.entries[index]!.providers.length === 0) problems.push(`entry ${index + 1} covering secrets has no provider`);
  let keys = 0;
  for (const r of root.resources ?? []) {
    if (!Array.isArray(r?.providers)) continue;
    for (const p of r.providers as unknown[]) {
      if (p === null || typeof p !== 'object') continue;
      for (const [provider, body] of Object.entries(p as Record<string, unknown>)) {
        if (!(provider in KEY_BYTES)) continue;
        const list = body !== null && typeof body === 'object' ? (body as Record<string, unknown>)['keys'] : undefined;
        if (!Array.isArray(list) || list.length === 0) {
          problems.push(`${provider} has no keys`);
          continue;
        }
        list.forEach((k, i) => {
          keys++;
          const bad = judgeKey(provider, k, i);
          if (bad) problems.push(bad);
        });
      }
    }
  }
  if (problems.length > 0) return { passed: false, actual: problems.join('; ') };
  const writer = parsed.entries[index]!.providers[0]!;
  return { passed: true, actual: `secrets written by ${writer}; ${keys} local key(s), all well-formed` };
}
