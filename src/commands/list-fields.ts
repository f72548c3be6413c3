/** `lanner list-fields`: the field catalogue with types and descriptions. */
import type { Command } from 'commander';
import { formatFieldList } from '../rules';

export function addListFieldsCommand(program: Command): void {
  program
    .command('list-fields')
    .description('print the field catalogue with types and descriptions')
    .option('--json', 'print the catalogue as JSON')
    .action((opts: { json?: boolean }) => {
      process.stdout.write(formatFieldList(opts.json === true));
      process.exitCode = 0;
    });
}
