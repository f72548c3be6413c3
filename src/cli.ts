#!/usr/bin/env node
/**
 * `lanner`: the one composition root. Every part is constructed and wired here and nowhere else;
 * the parts know only the contracts in src/probe/event.ts, src/state/types.ts and
 * src/outputs/alert.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, loadConfig, PACKAGE_DIR } from './config';
import type { LannerConfig } from './config';

/** Exit codes: 0 ok, 1 runtime failure or rule errors, 2 usage or configuration error. */
export const EXIT_USAGE = 2;

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(resolve(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export class NotAvailableError extends Error {
  constructor(what: string) {
    super(`${what} is not available in this build`);
    this.name = 'NotAvailableError';
  }
}

interface CommonRunOptions {
  config?: string;
  rules?: string[];
  option?: string[];
}

function configOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default /etc/lanner/lanner.yaml, else the packaged lanner.yaml)')
    .option('-o, --option <key=value>', 'override a configuration key, e.g. -o outputs.stdout.format=text (repeatable)', collect);
}

function rulesOption(cmd: Command): Command {
  return cmd.option('-r, --rules <file>', 'rules file or directory, loaded in order (repeatable; replaces rules_files)', collect);
}

function loadRunConfig(opts: CommonRunOptions) {
  const overrides = [...(opts.option ?? [])];
  const loaded = loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides });
  if (opts.rules && opts.rules.length > 0) {
    return { ...loaded, config: { ...loaded.config, rules_files: opts.rules.map((r) => resolve(r)) } };
  }
  return loaded;
}


/* ------------------------------------------------------------------------------------------ */
/* Commands. Each builds exactly the parts it needs.                                           */
/* ------------------------------------------------------------------------------------------ */

async function runAgent(_config: LannerConfig): Promise<number> {
  throw new NotAvailableError('the agent (lanner run)');
}

async function validateCommand(_config: LannerConfig, _opts: { json: boolean }): Promise<number> {
  throw new NotAvailableError('rule validation (lanner validate)');
}

function listFieldsCommand(_opts: { json: boolean }): number {
  throw new NotAvailableError('the field catalogue (lanner list-fields)');
}

async function recordCommand(_config: LannerConfig, _opts: { file: string; durationS?: number }): Promise<number> {
  throw new NotAvailableError('event capture (lanner record)');
}

async function replayCommand(_config: LannerConfig, _file: string): Promise<number> {
  throw new NotAvailableError('capture replay (lanner replay)');
}

async function postureCommand(_config: LannerConfig, _opts: { json: boolean }): Promise<number> {
  throw new NotAvailableError('the posture report (lanner posture)');
}

function versionCommand(): number {
  process.stdout.write(`lanner ${packageVersion()} (node ${process.version})\n`);
  return 0;
}

export function buildProgram(): Command {
  const program = new Command('lanner')
    .description('Runtime security agent for Kubernetes nodes: eBPF syscall events, Falco-compatible rules, node hardening checks')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    // Before the subcommands are added: they copy this setting when created.
    .exitOverride();

  configOptions(rulesOption(program.command('run').description('run the agent: load the probe and rules, stream alerts')))
    .action(async (opts: CommonRunOptions) => {
      const { config } = loadRunConfig(opts);
      process.exitCode = await runAgent(config);
    });

  rulesOption(configOptions(program.command('validate').description('load and compile rule files; print errors and warnings with file:line:column')))
    .option('--json', 'print the result as JSON')
    .action(async (opts: CommonRunOptions & { json?: boolean }) => {
      const { config } = loadRunConfig(opts);
      process.exitCode = await validateCommand(config, { json: opts.json === true });
    });

  program
    .command('list-fields')
    .description('print the field catalogue with types and descriptions')
    .option('--json', 'print the catalogue as JSON')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = listFieldsCommand({ json: opts.json === true });
    });

  configOptions(program.command('record').description('capture probe events to a file for later replay'))
    .requiredOption('-w, --write <file>', 'capture file to write')
    .addOption(new Option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)').argParser(parsePositive))
    .action(async (opts: CommonRunOptions & { write: string; duration?: number }) => {
      const { config } = loadRunConfig(opts);
      process.exitCode = await recordCommand(config, { file: opts.write, ...(opts.duration !== undefined ? { durationS: opts.duration } : {}) });
    });

  configOptions(rulesOption(program.command('replay').description('run the rule engine over a capture file and print the alerts')))
    .argument('<file>', 'capture file written by lanner record')
    .action(async (file: string, opts: CommonRunOptions) => {
      const { config } = loadRunConfig(opts);
      process.exitCode = await replayCommand(config, file);
    });

  configOptions(program.command('posture').description('one-shot node hardening report (CIS Kubernetes benchmark checks)'))
    .option('--json', 'print the report as JSON')
    .action(async (opts: CommonRunOptions & { json?: boolean }) => {
      const { config } = loadRunConfig(opts);
      process.exitCode = await postureCommand(config, { json: opts.json === true });
    });

  program
    .command('version')
    .description('print the version, the probe ABI and the Node.js runtime')
    .action(async () => {
      process.exitCode = versionCommand();
    });

  return program;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number of seconds`);
  return n;
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
    if (err instanceof NotAvailableError) {
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
