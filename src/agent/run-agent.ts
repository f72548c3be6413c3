/**
 * `lanner run`: the kernel probe feeding the pipeline, with the drop monitor and the metrics
 * server beside it. The order of everything is the `steps` list below.
 */
import { createAuditSource, type AuditConfig, type AuditSource } from '../audit';
import type { LannerConfig } from '../config';
import { createLogger, type Logger } from '../log';
import { POSTURE_STATUSES, startMetricsServer, type KernelFilterInfo, type PathFilterTypeInfo, type MetricsServer, type PostureCount } from '../metrics';
import type { MetricsConfig } from '../metrics/config';
import { DropMonitor } from '../outputs';
import type { DropsConfig } from '../outputs/drops-config';
import { packageVersion } from '../package';
import type { CheckStatus, PostureEngine, StatusCounts } from '../posture';
import { applyKernelCapture, bootOffsetNs, openProbe, type AppliedKernelCapture, type KernelEventSource, type ProbeConfig } from '../probe';
import { startCpuProfile, type CpuProfile } from './cpu-profile';
import { acquireInstanceLock, type InstanceLock } from './instance-lock';
import { Lifecycle, StartError, type LifecycleStep } from './lifecycle';
import { reloadConfiguration } from './config-reload';
import { buildPipeline, type Pipeline } from './pipeline';
import { probeOptionsOf, resolveHostname } from './settings';
import { waitForShutdown } from './signals';

/** How often the kernel's drop counters are compared with the last look. */
const DROP_CHECK_INTERVAL_MS = 1000;

/**
 * `reloadConfig` reads the configuration again as the command line asked for it (file, `-o`,
 * `-r`); without it SIGHUP reloads only the rules.
 */
export async function runAgent(config: LannerConfig, reloadConfig?: () => LannerConfig): Promise<number> {
  const log = createLogger(config.log);
  log.info({ version: packageVersion(), pid: process.pid }, 'lanner starting');

  let probe: KernelEventSource | undefined;
  let applied: AppliedKernelCapture | undefined;
  // After every applied rules load: the kernel captures exactly what the running rules need.
  const applyCapture = (): void => {
    const capture = pipeline.kernelCapture();
    if (!probe || !capture) return;
    const probeConfig = config.probe as ProbeConfig;
    const off = 'probe.open_path_filter is false';
    const filtered = probeConfig.open_path_filter
      ? capture
      : { ...capture, openFilter: null, openFilterOffBecause: off, changeFilter: null, changeFilterByType: Object.fromEntries(Object.keys(capture.changeFilterByType).map((t) => [t, { filtered: false as const, unboundedBy: off }])) };
    applied = applyKernelCapture(probe, probeConfig.resolve_aliases ? filtered : { ...filtered, aliasPaths: [] });
    log.info(applied, 'kernel capture');
    const killTablesRefused = pipeline.enforcer.applyTo(probe);
    if (killTablesRefused !== undefined) log.error({ reason: killTablesRefused }, 'kernel enforcement off: every kill rule is enforced from user space');
    // A kill from user space waits for its event's delivery: while one is armed, every look drains.
    probe.setGatherTrickles(![...pipeline.enforcer.current.rules.values()].some((r) => r.status.where === 'user' && r.mode === 'enforce'));
    logEnforcement(pipeline, log);
  };
  const rulesApplied = (): void => {
    applyCapture();
    const rs = pipeline.engine.currentRuleset;
    if (rs) audit.setRuleset(rs);
  };
  const pipeline = buildPipeline(config, log, { bootOffsetNs: bootOffsetNs(), seedState: true, onRulesApplied: rulesApplied, ruleCaptures: true, enforce: true });
  // The k8s_audit source (API server audit events): its alerts take the same outputs and rate limits.
  const audit = createAuditSource(config.audit as AuditConfig, { log, hostname: resolveHostname(config), matching: config.rule_matching, onAlert: (a) => pipeline.outputs.publish(a) });
  const agent = agentSteps(config, log, pipeline, {
    audit,
    kernelFilters: () => kernelFilterInfo(applied),
    pathFilterTypes: () => Object.entries(applied?.pathFilterByType ?? {}).map(([eventType, st]) => ({ eventType, filtered: st.filtered, keptOpenBy: st.filtered ? '' : st.unboundedBy })),
    probeLoaded: (p) => {
      probe = p;
      applyCapture();
    },
  });
  // The instance lock comes first and goes last: nothing (no socket, no probe) before it.
  const lifecycle = new Lifecycle([instanceLockStep(config), ...pipeline.steps, ...agent.steps], log);

  try {
    await lifecycle.start();
  } catch (err) {
    const step = err instanceof StartError ? err.step : 'start';
    // One line an operator can act on; the stack only when debugging.
    log.fatal({ step }, `cannot start: ${(err as Error).message}`);
    log.debug({ err: err instanceof StartError ? err.reason : err }, 'start failure');
    return exitNow(1);
  }
  log.info({ types: pipeline.kernelCapture()?.eventTypes.size ?? 0, metrics: agent.metricsAddress() }, 'agent ready');

  // SIGHUPs are handled one after the other: the configuration first, then the rules with it.
  let running = config;
  let reloading: Promise<unknown> = Promise.resolve();
  const signal = await waitForShutdown(() => {
    reloading = reloading.then(async () => {
      log.info(reloadConfig ? 'SIGHUP: reloading the configuration and the rules' : 'SIGHUP: reloading rules');
      if (reloadConfig) running = (await reloadConfiguration(running, reloadConfig, pipeline, log)).config;
      await pipeline.rules.reloadOffLoop();
    });
  });
  const before = shutdownCounts(pipeline);
  log.info({ signal, queued: before.queued }, 'shutting down');
  const failures = await lifecycle.stop();
  const after = shutdownCounts(pipeline);
  // What the stop could not deliver: alerts a sink dropped or gave up on at its deadline, events
  // the engine queue had no room for while the ring was emptied.
  const lost: Record<string, number> = {};
  for (const [sink, n] of Object.entries(after.sinkLosses)) if (n - (before.sinkLosses[sink] ?? 0) > 0) lost[sink] = n - (before.sinkLosses[sink] ?? 0);
  const eventsDropped = after.engineDropped - before.engineDropped;
  if (Object.keys(lost).length > 0 || eventsDropped > 0) log.warn({ alertsLost: lost, eventsDropped }, 'not everything was flushed at shutdown');
  log.info({ failures: failures.map((f) => f.step), evaluated: after.evaluated - before.evaluated, alerts: after.alerts - before.alerts }, 'stopped');
  return exitNow(failures.length > 0 ? 1 : 0);
}

/**
 * Nothing runs after "stopped" (or after a failed start): a timer or retry some part left behind
 * would otherwise run against closed outputs, or keep the process alive after its probe is gone.
 * Every output has flushed or given up by now and the log is synchronous, so exiting loses nothing.
 */
function exitNow(code: number): never {
  process.exit(code);
}

interface ShutdownCounts {
  /** Events waiting in the engine queue. */
  readonly queued: number;
  readonly evaluated: number;
  readonly alerts: number;
  readonly engineDropped: number;
  /** Per sink, alerts dropped plus alerts that failed. */
  readonly sinkLosses: Readonly<Record<string, number>>;
}

function shutdownCounts(pipeline: Pipeline): ShutdownCounts {
  const e = pipeline.engine.stats();
  const sinkLosses: Record<string, number> = {};
  for (const [name, s] of Object.entries(pipeline.outputs.stats().sinks)) sinkLosses[name] = s.dropped + s.failed;
  return { queued: e.queue.depth, evaluated: e.events, alerts: e.matches, engineDropped: e.queue.dropped, sinkLosses };
}

/** The single-instance guard (instance-lock.ts), held from the first step to the last. */
function instanceLockStep(config: LannerConfig): LifecycleStep {
  let lock: InstanceLock | undefined;
  return {
    name: 'instance lock',
    start: () => {
      lock = acquireInstanceLock(config.run_dir);
    },
    stop: () => lock?.release(),
  };
}

interface AgentSteps {
  readonly steps: readonly LifecycleStep[];
  metricsAddress(): { readonly host: string; readonly port: number } | undefined;
}

/**
 * The run-only steps after the pipeline's: load the probe, watch drops, serve metrics, then open
 * the tap (the source starts delivering last, so every consumer is ready for its first batch).
 */
function agentSteps(
  config: LannerConfig,
  log: Logger,
  pipeline: Pipeline,
  on: { readonly audit: AuditSource; probeLoaded(probe: KernelEventSource): void; kernelFilters(): KernelFilterInfo[]; pathFilterTypes(): PathFilterTypeInfo[] },
): AgentSteps {
  const { engine, rules, outputs, state, posture, histograms, captures } = pipeline;
  let source: KernelEventSource | undefined;
  let dropTimer: NodeJS.Timeout | undefined;
  let metrics: MetricsServer | undefined;
  let profile: CpuProfile | undefined;
  let dropMonitor: DropMonitor | undefined;
  const loaded = (): KernelEventSource => source!;

  const steps: LifecycleStep[] = [
    {
      name: 'probe',
      start: async () => {
        source = await openProbe({ ...probeOptionsOf(config), types: pipeline.kernelCapture()?.eventTypes ?? new Set() });
        on.probeLoaded(source);
      },
      // Stops capturing, hands what the kernel already wrote to the ring to the engine (the
      // evaluation step evaluates it), then detaches the programs.
      stop: () => {
        if (source === undefined) return undefined;
        source.setInterestingTypes(new Set());
        if (source.running) source.drainNow(pipeline.onBatch);
        return source.close();
      },
    },
    {
      name: 'drop monitor',
      start: () => {
        const monitor = (dropMonitor = new DropMonitor(config.drops as DropsConfig, {
          logger: log,
          hostname: resolveHostname(config),
          publish: (a) => outputs.publishInternal(a),
          exit: (reason) => {
            log.fatal({ reason }, 'exiting: drop action exit');
            process.kill(process.pid, 'SIGTERM');
          },
        }));
        dropTimer = setInterval(() => {
          const s = loaded().stats();
          const e = engine.stats();
          monitor.update({ delivered: s.delivered, ringFull: s.droppedRingFull, tooLarge: s.droppedTooLarge, kernelOther: s.droppedOther, engineQueue: e.queue.dropped });
        }, DROP_CHECK_INTERVAL_MS);
        dropTimer.unref();
      },
      stop: () => clearInterval(dropTimer),
    },
    {
      name: 'metrics',
      start: async () => {
        const metricsConfig = config.metrics as MetricsConfig;
        if (!metricsConfig.enabled) return;
        metrics = await startMetricsServer(
          metricsConfig,
          {
            source: () => loaded().stats(),
            engine: () => engine.metricsStats(),
            state: () => state.stats(),
            sinks: () => outputs.sinks,
            rules: () => rules.rulesInfo(),
            dropAlerts: () => dropMonitor?.counts.fired ?? 0,
            posture: () => postureCounts(posture),
            kernelFilters: () => on.kernelFilters(),
            pathFilterTypes: () => on.pathFilterTypes(),
            audit: () => on.audit.metricsStats(),
            enforcement: () => pipeline.enforcer.metricsStats(source),
            ...(captures ? { captures: () => captures.stats() } : {}),
            ...histograms,
          },
          {
            probe: () => loaded().running,
            rules: () => engine.currentRuleset !== undefined,
            outputs: () => outputs.healthy,
            detail: () => ({ sources: { k8s_audit: on.audit.status() } }),
          },
          { version: packageVersion(), commit: '', probe: 'modern', hostname: resolveHostname(config) },
        );
      },
      stop: () => metrics?.close(),
    },
    {
      // Audit log follower and webhook; stopped (position saved) before the rules and outputs.
      name: 'k8s audit',
      start: () => on.audit.start(),
      stop: () => on.audit.stop(),
    },
    {
      name: 'event delivery',
      start: async () => {
        await loaded().start(pipeline.onBatch);
        if (posture) {
          posture.scanAll();
          posture.start();
        }
      },
    },
    {
      name: 'cpu profile',
      start: async () => {
        if (process.env.LANNER_CPU_PROFILE) profile = await startCpuProfile(process.env.LANNER_CPU_PROFILE);
      },
      stop: () => profile?.stop(),
    },
  ];
  return { steps, metricsAddress: () => metrics?.address };
}

/** Where each kill rule is enforced, after every rules load that has one. */
function logEnforcement(pipeline: Pipeline, log: Logger): void {
  const rules = [...pipeline.enforcer.current.rules.values()];
  if (rules.length === 0) return;
  const by = (where: string): Record<string, string> => Object.fromEntries(rules.filter((r) => r.status.where === where).map((r) => [r.rule, `${r.mode}: ${r.status.why}`]));
  log.info({ kernel: by('kernel'), userSpace: by('user'), refused: by('refused') }, 'enforcement');
}

/** The kernel filters as the metrics export them. */
function kernelFilterInfo(applied: AppliedKernelCapture | undefined): KernelFilterInfo[] {
  if (!applied) return [];
  const open = applied.openFilter;
  const active = typeof open !== 'string';
  const alias = applied.aliasTargets.targets;
  return [
    { filter: 'open', active, entries: active ? [{ kind: 'prefix', count: open.prefixes }, { kind: 'suffix', count: open.suffixes }, { kind: 'name', count: open.comms }] : [] },
    changeFilterInfo(applied.changeFilter),
    // Not a filter that drops: the inode lookups that name an open by the path its rule knows.
    { filter: 'alias', active: alias > 0, entries: [{ kind: 'inode', count: alias }] },
  ];
}

function changeFilterInfo(change: AppliedKernelCapture['changeFilter']): KernelFilterInfo {
  if (typeof change === 'string') return { filter: 'change', active: false, entries: [] };
  return {
    filter: 'change',
    active: true,
    entries: [{ kind: 'prefix', count: change.prefixes }, { kind: 'suffix', count: change.suffixes }, { kind: 'name', count: change.comms }, { kind: 'event_type', count: change.types.length }],
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
