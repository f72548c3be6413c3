/** `lanner run`: load the probe and rules, stream alerts until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { runAgent } from '../agent';
import { configOptions, loadRunConfig, rulesOption, type CommonRunOptions } from './options';

export function addRunCommand(program: Command): void {
  configOptions(rulesOption(program.command('run').description('run the agent: load the probe and rules, stream alerts'))).action(async (opts: CommonRunOptions) => {
    process.exitCode = await runAgent(loadRunConfig(opts));
  });
}
