/** The alert a rule match becomes: the one place a match is rendered into the alert contract. */
import type { Alert } from '../outputs/alert';
import type { ExtractContext } from '../rules/context';
import { renderOutput } from '../rules/output';
import type { CompiledRule } from '../rules/ruleset';

export function ruleAlert(rule: CompiledRule, ctx: ExtractContext, timeNs: bigint, hostname: string): Alert {
  const rendered = renderOutput(rule.output, ctx);
  return {
    timeNs,
    rule: rule.name,
    priority: rule.priority,
    source: rule.source,
    message: rendered.message,
    outputFields: rendered.fields,
    tags: rule.tags,
    hostname,
  };
}
