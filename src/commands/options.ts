/** Options several commands share, and the configuration they load. */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { loadConfig, type LannerConfig } from '../config';

/** Exit codes: 0 ok, 1 runtime failure or rule errors, 2 usage or configuration error. */
export const EXIT_USAGE = 2;

export interface CommonRunOptions {
  config?: string;
  rules?: string[];
  option?: string[];
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function configOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default /etc/lanner/lanner.yaml, else the packaged lanner.yaml)')
    .option('-o, --option <key=value>', 'override a configuration key, e.g. -o outputs.stdout.format=text (repeatable)', collect);
}

export function rulesOption(cmd: Command): Command {
  return cmd.option('-r, --rules <file>', 'rules file or directory, loaded in order (repeatable; replaces rules_files)', collect);
}

/** The configuration a command runs with: file, then `-o` overrides, then `-r` replacing rules_files. */
export function loadRunConfig(opts: CommonRunOptions): LannerConfig {
  const { config } = loadConfig({ ...(opts.config !== undefined ? { file: opts.config } : {}), overrides: [...(opts.option ?? [])] });
  if (opts.rules && opts.rules.length > 0) return { ...config, rules_files: opts.rules.map((r) => resolve(r)) };
  return config;
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number of seconds`);
  return n;
}
