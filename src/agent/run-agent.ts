/**
 * `lanner run`: the kernel probe feeding the pipeline, with the drop monitor and the metrics
 * server beside it. The order of everything is the `steps` list below.
 */
import type { LannerConfig } from '../config';
import { createLogger, type Logger } from '../log';
import { POSTURE_STATUSES, startMetricsServer, type KernelFilterInfo, type MetricsServer, type PostureCount } from '../metrics';
import type { MetricsConfig } from '../metrics/config';
import { DropMonitor } from '../outputs';
import type { DropsConfig } from '../outputs/drops-config';
import { packageVersion } from '../package';
import type { CheckStatus, PostureEngine, StatusCounts } from '../posture';
import { applyKernelCapture, bootOffsetNs, openProbe, type AppliedKernelCapture, type KernelEventSource, type ProbeConfig } from '../probe';
import { startCpuProfile, type CpuProfile } from './cpu-profile';
import { Lifecycle, StartError, type LifecycleStep } from './lifecycle';
import { buildPipeline, type Pipeline } from './pipeline';
import { probeOptionsOf, resolveHostname } from './settings';
import { waitForShutdown } from './signals';

/** How often the kernel's drop counters are compared with the last look. */
const DROP_CHECK_INTERVAL_MS = 1000;

export async function runAgent(config: LannerConfig): Promise<number> {
  const log = createLogger(config.log);
  log.info({ version: packageVersion(), pid: process.pid }, 'lanner starting');

  let probe: KernelEventSource | undefined;
  let applied: AppliedKernelCapture | undefined;
  // After every applied rules load: the kernel captures exactly what the running rules need.
  const applyCapture = (): void => {
    const capture = pipeline.kernelCapture();
    if (!probe || !capture) return;
    const useFilter = (config.probe as ProbeConfig).open_path_filter;
    applied = applyKernelCapture(probe, useFilter ? capture : { ...capture, openFilter: null, openFilterOffBecause: 'probe.open_path_filter is false' });
    log.info(applied, 'kernel capture');
  };
  const pipeline = buildPipeline(config, log, { bootOffsetNs: bootOffsetNs(), seedState: true, onRulesApplied: applyCapture });
  const agent = agentSteps(config, log, pipeline, {
    kernelFilters: () => kernelFilterInfo(applied),
    probeLoaded: (p) => {
      probe = p;
      applyCapture();
    },
  });
  const lifecycle = new Lifecycle([...pipeline.steps, ...agent.steps], log);

  try {
    await lifecycle.start();
  } catch (err) {
    const step = err instanceof StartError ? err.step : 'start';
    log.fatal({ step, err: err instanceof StartError ? err.reason : err }, `cannot start: ${(err as Error).message}`);
    return 1;
  }
  log.info({ types: pipeline.kernelCapture()?.eventTypes.size ?? 0, metrics: agent.metricsAddress() }, 'agent ready');

  const signal = await waitForShutdown(() => {
    log.info('SIGHUP: reloading rules');
    pipeline.rules.reload();
  });
  log.info({ signal }, 'shutting down');
  const failures = await lifecycle.stop();
  log.info({ failures: failures.map((f) => f.step) }, 'stopped');
  return failures.length > 0 ? 1 : 0;
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
  on: { probeLoaded(probe: KernelEventSource): void; kernelFilters(): KernelFilterInfo[] },
): AgentSteps {
  const { engine, rules, outputs, state, posture, histograms } = pipeline;
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
      // Detaches the programs and drains what the kernel already delivered into the engine.
      stop: () => source?.close(),
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
            ...histograms,
          },
          { probe: () => loaded().running, rules: () => engine.currentRuleset !== undefined, outputs: () => outputs.healthy },
          { version: packageVersion(), commit: '', probe: 'modern', hostname: resolveHostname(config) },
        );
      },
      stop: () => metrics?.close(),
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

/** The kernel filters as the metrics export them. */
function kernelFilterInfo(applied: AppliedKernelCapture | undefined): KernelFilterInfo[] {
  if (!applied) return [];
  const open = applied.openFilter;
  const active = typeof open !== 'string';
  return [{ filter: 'open', active, entries: active ? [{ kind: 'prefix', count: open.prefixes }, { kind: 'name', count: open.comms }] : [] }];
}

function postureCounts(posture: PostureEngine | undefined): PostureCount[] {
  if (!posture) return [];
  const out: PostureCount[] = [];
  for (const [benchmark, counts] of Object.entries(posture.summary()) as [string, StatusCounts][]) {
    for (const status of POSTURE_STATUSES) out.push({ benchmark, status, count: counts[status.toUpperCase() as CheckStatus] });
  }
  return out;
}
