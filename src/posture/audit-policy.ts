/**
 * The API server's audit policy (--audit-policy-file): without one, nothing is audited even when
 * --audit-log-path is set. A usable policy is an audit.k8s.io Policy with at least one rule.
 */
import { parseDocument } from 'yaml';

export function judgeAuditPolicy(text: string): { passed: boolean; actual: string } {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) return { passed: false, actual: `not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const root: unknown = doc.toJS();
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return { passed: false, actual: 'not a YAML mapping' };
  const obj = root as Record<string, unknown>;
  const apiVersion = String(obj['apiVersion'] ?? '');
  if (obj['kind'] !== 'Policy' || !apiVersion.startsWith('audit.k8s.io/')) {
    return { passed: false, actual: `apiVersion ${JSON.stringify(obj['apiVersion'] ?? null)} kind ${JSON.stringify(obj['kind'] ?? null)}, not an audit.k8s.io Policy` };
  }
  const rules = obj['rules'];
  if (!Array.isArray(rules) || rules.length === 0) return { passed: false, actual: 'Policy has no rules: nothing is audited' };
  const levels = [...new Set(rules.map((r) => (r !== null && typeof r === 'object' ? String((r as Record<string, unknown>)['level'] ?? '?') : '?')))];
  return { passed: true, actual: `Policy with ${rules.length} rule(s), levels ${levels.join(',')}` };
}
