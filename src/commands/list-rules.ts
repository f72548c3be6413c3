/** `lanner list-rules`: the loaded rules, their event types and what the kernel filters for them. */
import type { Command } from 'commander';
import { minPriorityOf, rulesPaths } from '../agent';
import { EVENT_TYPES } from '../probe';
import { formatLoadMessage, loadRules, reportRules, type KernelFilterReport } from '../rules';
import { configOptions, loadRunConfig, rulesOption, type CommonRunOptions } from './options';

/** What the kernel's path filters do for these rules: the open filter on one line, then each path-changing type. */
export function describeOpenFilter(kernel: KernelFilterReport): string {
  const f = kernel.openFilter;
  const lines = [
    f.active
      ? `kernel open filter: on, ${f.prefixes.length} path prefixes, ${f.suffixes.length} suffixes, ${f.comms.length} process names`
      : `kernel open filter: off (${f.offBecause})`,
  ];
  const c = kernel.changeFilter;
  if (c.active) {
    const mode = c.modeMask !== 0 ? `, mode bits 0${c.modeMask.toString(8)}` : '';
    lines.push(`kernel change filter: on, ${c.prefixes.length} path prefixes, ${c.suffixes.length} suffixes, ${c.comms.length} process names${mode}`);
  }
  for (const [type, st] of Object.entries(kernel.changeFilterByType)) lines.push(`  ${type}: ${st.filtered ? 'filtered' : `every call ships (rule '${st.unboundedBy}' can match any path)`}`);
  return lines.join('\n');
}

export function addListRulesCommand(program: Command): void {
  rulesOption(configOptions(program.command('list-rules').description('list the loaded rules: priority, source, tags, event types, kernel filtering')))
    .option('--json', 'print the list as JSON')
    .option('--code', "print the generated JavaScript: each rule's predicate and each event type's evaluator (for debugging)")
    .action((opts: CommonRunOptions & { json?: boolean; code?: boolean }) => {
      const config = loadRunConfig(opts);
      const rs = loadRules(rulesPaths(config), { minPriority: minPriorityOf(config) });
      if (rs.errors.length > 0) {
        for (const e of rs.errors) process.stderr.write(`${formatLoadMessage(e)}\n`);
        process.exitCode = 1;
        return;
      }
      const report = reportRules(rs);
      if (opts.code === true) {
        for (const r of rs.rules) process.stdout.write(`// rule ${JSON.stringify(r.name)}\n${r.predicate.toString()}\n\n`);
        rs.evaluators.forEach((evaluate, id) => {
          if (evaluate) process.stdout.write(`// evaluator for ${EVENT_TYPES[id]!.name}: ${rs.byType[id]!.map((r) => r.name).join(', ')}\n${evaluate.toString()}\n\n`);
        });
      } else if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        for (const r of report.rules) {
          const state = r.enabled ? '' : ' (disabled)';
          process.stdout.write(`${r.name}${state}\n  priority ${r.priority}, source ${r.source}, kernel: ${r.kernelFilter}\n  events: ${r.evttypes.join(' ') || '(none)'}\n  tags: ${r.tags.join(' ') || '(none)'}\n`);
          for (const a of r.actions) process.stdout.write(`  action: ${a.action}, ${a.enforcedIn === 'refused' ? 'refused' : `enforced in ${a.enforcedIn}`}${a.mode ? ` (rule mode ${a.mode})` : ''}: ${a.why}\n`);
        }
        process.stdout.write(`${report.rules.length} rules; ${describeOpenFilter(report.kernel)}\n`);
      }
      process.exitCode = 0;
    });
}
