/** `lanner posture`: a one-shot node hardening report. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BENCHMARKS, LANNER_NODE, postureExitCode, renderPostureText, runPostureReport, type Benchmark, type PostureConfig } from '../posture';
import { configOptions, loadRunConfig, type CommonRunOptions } from './options';

function parseBenchmark(value: string): Benchmark {
  const known: readonly string[] = [...BENCHMARKS, LANNER_NODE];
  if (!known.includes(value)) throw new InvalidArgumentError(`'${value}' is not a benchmark (${known.join(', ')})`);
  return value as Benchmark;
}

function parseExitCode(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new InvalidArgumentError(`'${value}' is not an exit code (0-255)`);
  return n;
}

export function addPostureCommand(program: Command): void {
  configOptions(program.command('posture').description('one-shot node hardening report (CIS Kubernetes benchmark checks and Lanner node checks)'))
    .option('--json', 'print the report as JSON')
    .addOption(new Option('--benchmark <name>', 'the benchmark of the top-level report (default: the first CIS benchmark configured)').argParser(parseBenchmark))
    .addOption(new Option('--exit-code <n>', 'exit with this code when any check FAILs (WARN never fails; default: always 0)').argParser(parseExitCode))
    .action((opts: CommonRunOptions & { json?: boolean; benchmark?: Benchmark; exitCode?: number }) => {
      const config = loadRunConfig(opts);
      const report = runPostureReport({ config: config.posture as PostureConfig, ...(opts.benchmark !== undefined ? { primary: opts.benchmark } : {}) });
      process.stdout.write(opts.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderPostureText(report));
      process.exitCode = opts.exitCode !== undefined ? postureExitCode(report, opts.exitCode) : 0;
    });
}
