/**
 * `lanner run`: load the probe and rules, stream alerts until SIGINT/SIGTERM. With `--dry-run`:
 * load the configuration, rules and outputs as the agent would, report what it would run (the
 * kernel capture the rules compile to, the captures they trigger), and exit without the probe.
 */
import type { Command } from 'commander';
import { buildPipeline, Lifecycle, runAgent, StartError } from '../agent';
import type { LannerConfig } from '../config';
import { createLogger } from '../log';
import type { ProbeConfig } from '../probe';
import type { KernelCapture } from '../probe/kernel-capture';
import { formatLoadMessageWithSource } from '../rules';
import { configOptions, loadRunConfig, rulesOption, type CommonRunOptions } from './options';
import { sourceLines } from './validate';

export function addRunCommand(program: Command): void {
  configOptions(rulesOption(program.command('run').description('run the agent: load the probe and rules, stream alerts')))
    .option('--dry-run', 'load the configuration, rules and outputs, report what would run, and exit without loading the probe')
    .action(async (opts: CommonRunOptions & { dryRun?: boolean }) => {
      const config = loadRunConfig(opts);
      process.exitCode = opts.dryRun === true ? await dryRun(config) : await runAgent(config, () => loadRunConfig(opts));
    });
}

/** What the agent would start with, on stdout; 0 when it would start, 1 when a step would fail. */
async function dryRun(config: LannerConfig): Promise<number> {
  const out = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  // The report is the output: the parts' own log lines would only repeat it.
  const log = createLogger({ ...config.log, level: 'silent' });
  const pipeline = buildPipeline({ ...config, watch_rules: false }, log, { bootOffsetNs: 0n, seedState: false, ruleCaptures: true });

  const loaded = pipeline.rules.reload();
  const lineOf = sourceLines();
  for (const m of [...loaded.errors, ...loaded.warnings]) out(formatLoadMessageWithSource(m, lineOf));
  const rs = pipeline.engine.currentRuleset;
  const enabled = rs ? rs.rules.filter((r) => r.enabled).length : 0;
  out(`rules: ${loaded.rules} rules (${enabled} enabled) from ${loaded.files.length} files, ${loaded.errors.length} errors, ${loaded.warnings.length} warnings`);
  pipeline.rules.close();
  if (!loaded.applied || !rs) {
    out('dry run: the agent would not start (rules)');
    return 1;
  }

  // The sinks (and the capture directory) are opened and closed again, as the agent opens them.
  const names = new Set(['outputs', 'captures']);
  const lifecycle = new Lifecycle(
    pipeline.steps.filter((s) => names.has(s.name)),
    log,
  );
  try {
    await lifecycle.start();
  } catch (err) {
    out(`${err instanceof StartError ? err.step : 'outputs'}: cannot open: ${err instanceof StartError && err.reason instanceof Error ? err.reason.message : (err as Error).message}`);
    out(`dry run: the agent would not start (${err instanceof StartError ? err.step : 'outputs'})`);
    return 1;
  }
  const sinks = pipeline.outputs.sinks.map((s) => s.name);
  const failures = await lifecycle.stop();
  out(`outputs: ${sinks.length > 0 ? sinks.join(', ') : '(none)'} opened`);
  if (failures.length > 0) {
    for (const f of failures) out(`${f.step}: close failed: ${f.error.message}`);
    return 1;
  }

  const capture = pipeline.kernelCapture();
  if (capture) out(describeKernelCapture(capture, config.probe as ProbeConfig));
  out(describeRuleCaptures(config, pipeline.captures?.stats().files ?? 0, rs.rules));
  out('dry run: ok (nothing started)');
  return 0;
}

function describeKernelCapture(capture: KernelCapture, probe: ProbeConfig): string {
  const types = [...capture.eventTypes].sort();
  const open = !probe.open_path_filter
    ? 'off (probe.open_path_filter is false)'
    : capture.openFilter === null
      ? `off (${capture.openFilterOffBecause ?? 'a rule can match any open'})`
      : `on, ${capture.openFilter.prefixes.length} path prefixes, ${capture.openFilter.suffixes?.length ?? 0} suffixes, ${capture.openFilter.comms?.length ?? 0} process names`;
  const change = !probe.open_path_filter
    ? 'off (probe.open_path_filter is false)'
    : Object.entries(capture.changeFilterByType)
        .map(([t, st]) => `${t} ${st.filtered ? 'filtered' : `unfiltered (rule '${st.unboundedBy}')`}`)
        .join(', ') || 'no path-changing type needed';
  return [
    `kernel capture: ${types.length} event types: ${types.join(' ')}`,
    `  open filter: ${open}`,
    `  change filter: ${change}`,
    `  exec environments: ${capture.execEnvironment ? 'on (a rule reads proc.env)' : 'off'}; forks from the caller's side: ${capture.cloneCallerSide ? 'on' : 'off'}`,
    `  files the rules name, followed by inode: ${probe.resolve_aliases ? capture.aliasPaths.length : 'off (probe.resolve_aliases is false)'}`,
  ].join('\n');
}

function describeRuleCaptures(config: LannerConfig, files: number, rules: readonly { name: string; enabled: boolean; source: string; capture: boolean }[]): string {
  const c = config.capture;
  if (!c.enabled) {
    const asking = rules.filter((r) => r.enabled && r.capture).length;
    return `rule captures: off (capture.enabled is false${asking > 0 ? `; ${asking} rules have capture: true` : ''})`;
  }
  const triggering = rules.filter((r) => r.enabled && r.source === 'syscall' && (c.mode === 'all_rules' || r.capture)).map((r) => r.name);
  const which = triggering.length === 0 ? 'no loaded rule triggers one' : `${triggering.length} rules trigger them (${c.mode}): ${triggering.slice(0, 5).join(', ')}${triggering.length > 5 ? ', …' : ''}`;
  return `rule captures: on, ${which}; ${c.path_prefix}_*.cap, ${files} files kept, at most ${c.max_files} files and ${c.max_total_size_mb} MB (${c.when_full})`;
}
