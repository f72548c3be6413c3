#!/usr/bin/env -S node --max-semi-space-size=4
/**
 * `lanner`: the one composition root. Every part is constructed and wired here and nowhere else;
 * the parts know only the contracts in src/probe/event.ts, src/state/types.ts and
 * src/outputs/alert.ts.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { ConfigError, loadConfig, PACKAGE_DIR, resolvePackagePath } from './config';
import type { LannerConfig } from './config';
import { Engine, expandRulesPaths, RulesManager, type EngineState } from './engine';
import { createLogger, type Logger } from './log';
import { createPipelineHistograms, startMetricsServer, POSTURE_STATUSES, type PostureCount } from './metrics';
import type { MetricsConfig } from './metrics/config';
import { createOutputs, DropMonitor, type Outputs } from './outputs';
import { parsePriority, type PriorityNum } from './outputs/alert';
import type { OutputsConfig } from './outputs/config';
import type { DropsConfig } from './outputs/drops-config';
import { isAlertworthy, PostureEngine, PostureTap, renderPostureText, runPostureReport, statusChangeToAlert, type CheckStatus, type PostureConfig, type StatusCounts } from './posture';
import { bootOffsetNs, CaptureError, ProbeError, openCapture, openProbe, probeOptionsFromConfig, recordCapture, type EventBatch, type EventSource, type KernelEventSource, type ProbeConfig, type ProbeOptions } from './probe';
import { formatFieldList, formatLoadMessage, validateRules, type LoadMessage } from './rules';
import { openPathPrefixes } from './rules/path-prefixes';
import { rulesetMatchesType, rulesetReadsField } from './rules/field-use';
import { createStateEngine, type LannerStateEngine } from './state';
import type { StateConfig } from './state/config';
import type { StateReader } from './state/types';

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

/** The host name put in alerts and metrics: config, else the node name (DaemonSet), else the OS's. */
function resolveHostname(config: LannerConfig): string {
  return config.hostname || process.env.NODE_NAME || hostname();
}

/** Rule files in load order: directories expand to their *.yaml/*.yml files, sorted. */
function rulesPaths(config: LannerConfig): string[] {
  return expandRulesPaths(config.rules_files.map((p) => resolvePackagePath(p)));
}

function minPriorityOf(config: LannerConfig): PriorityNum {
  return parsePriority(config.priority) ?? 7;
}

function printLoadMessages(result: { errors: readonly LoadMessage[]; warnings: readonly LoadMessage[] }, log: Logger): void {
  for (const w of result.warnings) log.warn({ code: w.code, file: w.file, line: w.line, column: w.column }, formatLoadMessage(w));
  for (const e of result.errors) log.error({ code: e.code, file: e.file, line: e.line, column: e.column }, formatLoadMessage(e));
}

/** Resolves on the first SIGINT/SIGTERM; SIGHUP calls `onHup` each time. */
function waitForShutdown(onHup: () => void): Promise<NodeJS.Signals> {
  process.on('SIGHUP', onHup);
  return new Promise((resolveSignal) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', onHup);
      resolveSignal(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * Wires one event source (the kernel probe or a capture) to state, rules, posture and outputs.
 * Shared by `run` (probe) and `replay` (capture), so a replay runs exactly the agent's pipeline.
 */
interface Pipeline {
  readonly engine: Engine;
  readonly state: LannerStateEngine;
  readonly rules: RulesManager;
  readonly outputs: Outputs;
  readonly posture: PostureEngine | undefined;
  readonly histograms: ReturnType<typeof createPipelineHistograms>;
  readonly onBatch: (batch: EventBatch) => void;
  close(): Promise<void>;
}

function buildPipeline(
  config: LannerConfig,
  log: Logger,
  opts: { bootOffsetNs: bigint; seedState: boolean; source: () => EventSource | undefined; onRulesApplied?: () => void },
): Pipeline {
  const host = resolveHostname(config);
  const outputs = createOutputs(config.outputs as OutputsConfig, { logger: log, hostname: host, version: packageVersion() });
  const state = createStateEngine({ config: config.state as StateConfig, seed: opts.seedState, log });
  const histograms = createPipelineHistograms();
  const posture = (config.posture as PostureConfig).enabled ? new PostureEngine(config.posture as PostureConfig) : undefined;

  // Posture rides on the state hooks: a typed-array lookup per event decides whether the event can
  // change a hardening check (a component exec, a write or mode change of a watched file); the
  // tap defers the /proc and file reads off the event path.
  const postureTap = posture ? new PostureTap(posture, { fdPath: (tgid, fd) => state.fd(tgid, fd)?.name }) : undefined;
  const engineState: EngineState = postureTap
    ? {
        ...bindStateReader(state),
        requiredEventTypes: new Set([...state.requiredEventTypes, ...PostureTap.eventTypes]),
        beforeRules: (ev) => state.beforeRules(ev),
        afterRules: (ev) => {
          postureTap.onEvent(ev);
          state.afterRules(ev);
        },
      }
    : state;

  const engine = new Engine({
    state: engineState,
    onAlert: (alert) => outputs.publish(alert),
    matching: config.rule_matching,
    bootOffsetNs: opts.bootOffsetNs,
    hostname: host,
    queueCapacity: config.engine.queue_capacity,
    sliceMs: config.engine.slice_ms,
    latencySampleEvery: config.engine.latency_sample_every,
    eventLatency: histograms.eventLatency,
    batchEvaluate: histograms.batchEvaluate,
  });

  const rules = new RulesManager({
    engine,
    paths: rulesPaths(config),
    watch: config.watch_rules,
    debounceMs: config.engine.watch_debounce_ms,
    minPriority: minPriorityOf(config),
    appendContainerFields: config.engine.append_container_fields,
    onReload: (r) => {
      if (r.applied) {
        log.info({ rules: r.rules, files: r.files, warnings: r.warnings.length, ms: Math.round(r.durationMs) }, 'rules loaded');
        opts.source()?.setInterestingTypes(engine.interestingTypes());
        opts.onRulesApplied?.();
      } else {
        printLoadMessages(r, log);
        log.error({ errors: r.errors.length }, 'rules not reloaded: keeping the running rules');
      }
    },
  });

  if (posture) {
    posture.onStatusChange((change) => {
      if (isAlertworthy(change)) outputs.publishInternal(statusChangeToAlert(change, { hostname: host, timeNs: BigInt(Date.now()) * 1_000_000n }));
    });
  }

  const onBatch = (batch: EventBatch): void => engine.processBatch(batch);

  return {
    engine,
    state,
    rules,
    outputs,
    posture,
    histograms,
    onBatch,
    async close() {
      rules.close();
      posture?.close();
      await outputs.close((config.outputs as OutputsConfig).shutdown_deadline_ms);
      await state.close();
    },
  };
}

/** Probe options: the `probe:` section, plus the exec environment the state keeps per process. */
function probeOptionsOf(config: LannerConfig): ProbeOptions {
  return { ...probeOptionsFromConfig(config.probe as ProbeConfig), maxEnvBytes: (config.state as StateConfig).max_env_bytes };
}

/** The StateReader half of the state engine, bound so it can be spread into a wrapper. */
function bindStateReader(s: LannerStateEngine): StateReader {
  return {
    process: (tgid) => s.process(tgid),
    fd: (tgid, fd) => s.fd(tgid, fd),
    container: (id) => s.container(id),
    containerIdOfCgroup: (cg, tgid) => s.containerIdOfCgroup(cg, tgid),
    userName: (uid, c) => s.userName(uid, c),
    groupName: (gid, c) => s.groupName(gid, c),
  };
}

/** Event types the kernel can ship from the caller's side too (the child's side always ships). */
const FORK_TYPES: readonly string[] = ['clone', 'clone3', 'fork', 'vfork'];

/** Fields that read a process's environment (captured at exec). */
const ENV_FIELDS: ReadonlySet<string> = new Set(['proc.env', 'proc.aenv']);

async function runAgent(config: LannerConfig): Promise<number> {
  const log = createLogger(config.log);
  log.info({ version: packageVersion(), pid: process.pid }, 'lanner starting');

  let probe: KernelEventSource | undefined;
  const probeConfig = config.probe as ProbeConfig;
  // The kernel drops opens no rule can match (and posture does not watch): derived again after
  // every reload, so the filter never hides what the running rules look for.
  const applyOpenPathFilter = (): void => {
    const rs = pipeline.engine.currentRuleset;
    if (!probe || !rs || !probeConfig.open_path_filter) return;
    const watched = pipeline.posture ? [...pipeline.posture.watchedPaths()].map((prefix) => ({ prefix, writeOnly: true })) : [];
    const prefixes = openPathPrefixes(rs, watched);
    try {
      probe.setOpenPathPrefixes(prefixes ?? null);
      log.info({ prefixes: prefixes?.length ?? 'off: a rule can match any path' }, 'open path filter');
    } catch (err) {
      // Too many or too long prefixes: ship every open rather than guess.
      probe.setOpenPathPrefixes(null);
      log.warn({ err: (err as Error).message }, 'open path filter off');
    }
  };
  // Data the kernel copies only while a loaded rule uses it: exec environments (proc.env) and the
  // caller's side of clones (the process table needs only the child's side).
  const applyRuleDrivenCapture = (): void => {
    const rs = pipeline.engine.currentRuleset;
    if (!probe || !rs) return;
    const execEnvironment = rulesetReadsField(rs, ENV_FIELDS);
    const cloneCallerSide = rulesetMatchesType(rs, FORK_TYPES);
    probe.setExecEnvCapture(execEnvironment);
    probe.setCloneCallerEvents(cloneCallerSide);
    log.info({ execEnvironment, cloneCallerSide }, 'rule-driven kernel capture');
  };
  const onRulesApplied = (): void => {
    applyOpenPathFilter();
    applyRuleDrivenCapture();
  };
  const pipeline = buildPipeline(config, log, { bootOffsetNs: bootOffsetNs(), seedState: true, source: () => probe, onRulesApplied });
  const { engine, rules, outputs, state, posture, histograms } = pipeline;

  const first = rules.reload();
  if (!first.applied) {
    printLoadMessages(first, log);
    log.fatal({ errors: first.errors.length }, 'cannot start: the rules have errors');
    await pipeline.close();
    return 1;
  }
  for (const w of first.warnings) log.debug({ code: w.code }, formatLoadMessage(w));

  try {
    probe = await openProbe({ ...probeOptionsOf(config), types: engine.interestingTypes() });
  } catch (err) {
    log.fatal({ err }, `cannot load the kernel probe: ${(err as Error).message}`);
    await pipeline.close();
    return 1;
  }
  const source = probe;
  onRulesApplied();

  await outputs.start();

  const dropMonitor = new DropMonitor(config.drops as DropsConfig, {
    logger: log,
    hostname: resolveHostname(config),
    publish: (a) => outputs.publishInternal(a),
    exit: (reason) => {
      log.fatal({ reason }, 'exiting: drop action exit');
      process.kill(process.pid, 'SIGTERM');
    },
  });
  const dropTimer = setInterval(() => {
    const s = source.stats();
    const e = engine.stats();
    dropMonitor.update({ delivered: s.delivered, ringFull: s.droppedRingFull, tooLarge: s.droppedTooLarge, kernelOther: s.droppedOther, nativeQueue: 0, engineQueue: e.queue.dropped });
  }, 1000);
  dropTimer.unref();

  const metricsConfig = config.metrics as MetricsConfig;
  const metrics = metricsConfig.enabled
    ? await startMetricsServer(
        metricsConfig,
        {
          source: () => source.stats(),
          engine: () => engine.metricsStats(),
          state: () => state.stats(),
          sinks: () => outputs.sinks,
          rules: () => rules.rulesInfo(),
          dropAlerts: () => dropMonitor.counts.fired,
          posture: () => postureCounts(posture),
          ...histograms,
        },
        { probe: () => source.running, rules: () => engine.currentRuleset !== undefined, outputs: () => outputs.healthy },
        { version: packageVersion(), commit: '', probe: 'modern', hostname: resolveHostname(config) },
      )
    : undefined;

  await source.start(pipeline.onBatch);
  if (config.watch_rules) rules.startWatching();
  if (posture) {
    posture.scanAll();
    posture.start();
  }
  log.info({ types: [...engine.interestingTypes()].length, metrics: metrics?.address }, 'agent ready');
  const profile = process.env.LANNER_CPU_PROFILE ? await startCpuProfile(process.env.LANNER_CPU_PROFILE) : undefined;

  const signal = await waitForShutdown(() => {
    log.info('SIGHUP: reloading rules');
    rules.reload();
  });
  log.info({ signal }, 'shutting down');
  await profile?.stop();
  clearInterval(dropTimer);
  await source.close();
  // Whatever the probe delivered before detaching is still evaluated and flushed.
  await pipeline.close();
  await metrics?.close();
  log.info('stopped');
  return 0;
}

/**
 * LANNER_CPU_PROFILE=FILE: V8 CPU profile of the running agent, written at shutdown. Started after
 * the probe is loaded because `node --cpu-prof` signals the process every millisecond, and the
 * kernel verifier gives up (EAGAIN) on a load interrupted by a pending signal.
 */
async function startCpuProfile(file: string): Promise<{ stop(): Promise<void> }> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((res, rej) => session.post(method, params, (err, result) => (err ? rej(err) : res(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function postureCounts(posture: PostureEngine | undefined): PostureCount[] {
  if (!posture) return [];
  const out: PostureCount[] = [];
  for (const [benchmark, counts] of Object.entries(posture.summary()) as [string, StatusCounts][]) {
    for (const status of POSTURE_STATUSES) out.push({ benchmark, status, count: counts[status.toUpperCase() as CheckStatus] });
  }
  return out;
}

async function validateCommand(config: LannerConfig, opts: { json: boolean }): Promise<number> {
  const result = validateRules(rulesPaths(config), { minPriority: minPriorityOf(config) });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    for (const m of [...result.errors, ...result.warnings]) process.stdout.write(`${formatLoadMessage(m)}\n`);
    process.stdout.write(`${result.rules.length} rules, ${result.errors.length} errors, ${result.warnings.length} warnings\n`);
  }
  return result.errors.length > 0 ? 1 : 0;
}

function listFieldsCommand(opts: { json: boolean }): number {
  process.stdout.write(formatFieldList(opts.json));
  return 0;
}

async function recordCommand(config: LannerConfig, opts: { file: string; durationS?: number }): Promise<number> {
  const log = createLogger(config.log);
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const result = await recordCapture({
    file: opts.file,
    ...(opts.durationS !== undefined ? { durationS: opts.durationS } : {}),
    probeOptions: probeOptionsOf(config),
    signal: ac.signal,
    onStarted: () => log.info({ file: opts.file }, 'recording'),
  });
  log.info({ file: opts.file, ...result }, 'capture written');
  return 0;
}

async function replayCommand(config: LannerConfig, file: string): Promise<number> {
  const log = createLogger(config.log);
  const capture = openCapture(file);
  // A capture is evaluated against today's rules with the boot clock it was recorded under, and
  // without the live host's /proc seeding: its processes are the recorded ones.
  const pipeline = buildPipeline({ ...config, watch_rules: false }, log, { bootOffsetNs: capture.header.bootOffsetNs, seedState: false, source: () => capture });
  const loaded = pipeline.rules.reload();
  if (!loaded.applied) {
    printLoadMessages(loaded, log);
    await pipeline.close();
    return 1;
  }
  await pipeline.outputs.start();
  await capture.start(pipeline.onBatch);
  await capture.done;
  pipeline.engine.flush();
  await capture.close();
  await pipeline.close();
  return 0;
}

async function postureCommand(config: LannerConfig, opts: { json: boolean }): Promise<number> {
  const report = runPostureReport({ config: config.posture as PostureConfig });
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : renderPostureText(report));
  return 0;
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
    if (err instanceof NotAvailableError || err instanceof CaptureError || err instanceof ProbeError) {
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
