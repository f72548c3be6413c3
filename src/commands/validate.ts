/** `lanner validate`: load and compile rule files, print errors and warnings as file:line:column. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { minPriorityOf, rulesPaths } from '../agent';
import { formatLoadMessageWithSource, validateRules } from '../rules';
import { describeOpenFilter } from './list-rules';
import { configOptions, loadRunConfig, rulesOption, type CommonRunOptions } from './options';

export function addValidateCommand(program: Command): void {
  rulesOption(configOptions(program.command('validate').description('load and compile rule files; print errors and warnings with file:line:column')))
    .option('--json', 'print the result as JSON')
    .action((opts: CommonRunOptions & { json?: boolean }) => {
      const config = loadRunConfig(opts);
      const result = validateRules(rulesPaths(config), { minPriority: minPriorityOf(config) });
      if (opts.json === true) {
        process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      } else {
        const lineOf = sourceLines();
        for (const m of [...result.errors, ...result.warnings]) process.stdout.write(`${formatLoadMessageWithSource(m, lineOf)}\n`);
        process.stdout.write(`${result.rules.length} rules, ${result.errors.length} errors, ${result.warnings.length} warnings\n`);
        if (result.errors.length === 0) process.stdout.write(`${describeOpenFilter(result.kernel)}\n`);
      }
      process.exitCode = result.errors.length > 0 ? 1 : 0;
    });
}

/** Lines of the rule files, read once each, for the source line under each message. */
export function sourceLines(): (file: string, line: number) => string | undefined {
  const files = new Map<string, readonly string[] | undefined>();
  return (file, line) => {
    if (!files.has(file)) {
      let lines: readonly string[] | undefined;
      try {
        lines = readFileSync(file, 'utf8').split(/\r?\n/);
      } catch {
        lines = undefined;
      }
      files.set(file, lines);
    }
    return files.get(file)?.[line - 1];
  };
}
