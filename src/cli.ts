#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * `lanner`: the command shell. Each command lives in src/commands/ and builds exactly the parts it
 * needs; the agent's wiring and lifecycle live in src/agent/.
 */
import { Command, CommanderError } from 'commander';
import { StartError } from './agent';
import { ConfigError } from './config';
import { addListEventsCommand } from './commands/list-events';
import { addListFieldsCommand } from './commands/list-fields';
import { addListRulesCommand } from './commands/list-rules';
import { EXIT_USAGE } from './commands/options';
import { addPostureCommand } from './commands/posture';
import { addRecordCommand } from './commands/record';
import { addReplayCommand } from './commands/replay';
import { addRunCommand } from './commands/run';
import { addValidateCommand } from './commands/validate';
import { addVersionCommand } from './commands/version';
import { packageVersion } from './package';
import { CaptureError, ProbeError } from './probe';

export function buildProgram(): Command {
  const program = new Command('lanner')
    .description('Runtime security agent for Kubernetes nodes: eBPF syscall events, Falco-compatible rules, node hardening checks')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // Before the subcommands are added: they copy this setting when created.
    .exitOverride();
  for (const add of [addRunCommand, addValidateCommand, addListRulesCommand, addListFieldsCommand, addListEventsCommand, addRecordCommand, addReplayCommand, addPostureCommand, addVersionCommand]) add(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`lanner: ${err.message}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof CaptureError || err instanceof ProbeError || err instanceof StartError) {
      // Errors about the user's input or machine: the message says it all, a stack would not help.
      process.stderr.write(`lanner: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`lanner: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`lanner: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
