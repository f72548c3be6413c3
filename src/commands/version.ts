/** `lanner version`. */
import type { Command } from 'commander';
import { packageVersion } from '../package';

export function addVersionCommand(program: Command): void {
  program
    .command('version')
    .description('print the version, the probe ABI and the Node.js runtime')
    .action(() => {
      process.stdout.write(`lanner ${packageVersion()} (node ${process.version})\n`);
      process.exitCode = 0;
    });
}
