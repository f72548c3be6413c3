/**
 * The pipeline one event source feeds: state → rules → outputs, with posture beside the state.
 * Shared by `run` (the kernel probe) and `replay` (a capture), so a replay runs exactly the agent's
 * pipeline. Every part is constructed here and nowhere else; the parts know only the contracts in
 * src/probe/event.ts, src/state/types.ts, src/engine (EventHook) and src/outputs/alert.ts.
 */
import { RuleCaptures, type CaptureConfig } from '../capture';
import type { LannerConfig } from '../config';
import { Enforcer, type EnforcementConfig } from '../enforce';
import { Engine, RulesManager, type EventHook, type ReloadResult } from '../engine';
import type { Logger } from '../log';
import { createPipelineHistograms } from '../metrics';
import { createOutputs, type Outputs } from '../outputs';
import type { OutputsConfig } from '../outputs/config';
import { packageVersion } from '../package';
import { isAlertworthy, PostureEngine, PostureTap, statusChangeToAlert, type PostureConfig } from '../posture';
import type { EventBatch } from '../probe';
import type { KernelCapture } from '../probe/kernel-capture';
import { hostNamesToResolve } from '../rules/field-use';
import { kernelCaptureFor } from '../rules/kernel-needs';
import { createStateEngine, kubernetesServiceNames, type LannerStateEngine } from '../state';
import type { StateConfig } from '../state/config';
import type { LifecycleStep } from './lifecycle';
import { alertShapingOf, logLoadMessages, resolveHostname, rulesetOptionsOf, rulesPaths } from './settings';

export interface PipelineOptions {
  /** Wall clock minus the kernel's monotonic clock, in ns (the probe's, or the capture's). */
  readonly bootOffsetNs: bigint;
  /** Seed the process table from this host's /proc (not for a replay: its processes are recorded). */
  readonly seedState: boolean;
  /** Called after every rules load that was applied (the agent re-derives the kernel capture). */
  readonly onRulesApplied?: () => void;
  /** Write rule-triggered captures when `capture.enabled` (the agent; never a replay of one). */
  readonly ruleCaptures?: boolean;
  /** Kill for rules with `actions: [kill]` (the agent); never for a replay, which only says what it would kill. */
  readonly enforce?: boolean;
}

export interface Pipeline {
  readonly engine: Engine;
  readonly state: LannerStateEngine;
  readonly rules: RulesManager;
  readonly outputs: Outputs;
  readonly posture: PostureEngine | undefined;
  /** Rule-triggered captures, when enabled. */
  readonly captures: RuleCaptures | undefined;
  /** Rules with `actions: [kill]`: the plan after every load, the decision at every match. */
  readonly enforcer: Enforcer;
  readonly histograms: ReturnType<typeof createPipelineHistograms>;
  readonly onBatch: (batch: EventBatch) => void;
  /** What the kernel must capture for the loaded rules, state and posture (undefined before a load). */
  kernelCapture(): KernelCapture | undefined;
  /**
   * The pipeline's lifecycle steps, in start order: outputs, captures (when enabled), state, posture, evaluation, rules.
   * Stopped in reverse: rules, then whatever is queued is evaluated, then posture (fed by those
   * events) and the state close and the outputs flush within their deadline.
   */
  readonly steps: readonly LifecycleStep[];
}

export function buildPipeline(config: LannerConfig, log: Logger, opts: PipelineOptions): Pipeline {
  const host = resolveHostname(config);
  const outputsConfig = config.outputs as OutputsConfig;
  const outputs = createOutputs(outputsConfig, { logger: log, hostname: host, version: packageVersion() }, alertShapingOf(config));
  // The API server's service address, which every pod (the agent's too) is given, names it without DNS.
  const state = createStateEngine({ config: config.state as StateConfig, seed: opts.seedState, log, staticHosts: kubernetesServiceNames(process.env) });
  const histograms = createPipelineHistograms();
  const postureConfig = config.posture as PostureConfig;
  const posture = postureConfig.enabled ? new PostureEngine(postureConfig) : undefined;
  const captureConfig = config.capture as CaptureConfig;
  const captures = opts.ruleCaptures === true && captureConfig.enabled ? new RuleCaptures({ config: captureConfig, log, hostname: host, bootOffsetNs: opts.bootOffsetNs }) : undefined;

  // Posture rides on the event hooks: a typed-array lookup per event decides whether the event can
  // change a hardening check (a component exec, a write or mode change of a watched file); the
  // tap defers the /proc and file reads off the event path.
  const postureTap = posture ? new PostureTap(posture, { fdPath: (tgid, fd) => state.fd(tgid, fd)?.name }) : undefined;
  const hooks: EventHook[] = postureTap ? [state, postureTap] : [state];

  const enforcer = new Enforcer({ config: config.enforcement as EnforcementConfig, live: opts.enforce === true });
  const engine = new Engine({
    reader: state,
    // Only rules with `actions` need the enforcer (and the process lookup for proc.name).
    onMatch: (rule, ctx, alert) => (rule.actions.length === 0 ? alert : enforcer.decide(rule, ctx.ev, ctx.process()?.name, alert)),
    hooks,
    // A rule that wants a capture starts (or extends) one, and its alert names the file.
    onAlert: captures ? (alert) => outputs.publish(captures.onAlert(alert)) : (alert) => outputs.publish(alert),
    matching: config.rule_matching,
    bootOffsetNs: opts.bootOffsetNs,
    hostname: host,
    queueCapacity: config.engine.queue_capacity,
    sliceMs: config.engine.slice_ms,
    latencySampleEvery: config.engine.latency_sample_every,
    eventLatency: histograms.eventLatency,
    batchEvaluate: histograms.batchEvaluate,
    // A container's first exec waits (bounded) for the container's metadata, which its rules read.
    ...(state.evaluationGate ? { gate: state.evaluationGate } : {}),
  });

  const rules = new RulesManager({
    engine,
    paths: rulesPaths(config),
    watch: config.watch_rules,
    debounceMs: config.engine.watch_debounce_ms,
    ...rulesetOptionsOf(config),
    allowEmpty: config.engine.allow_empty_rules,
    checkMemoryMb: config.engine.reload_memory_mb,
    onReload: (r) => {
      if (r.applied) {
        if (engine.currentRuleset) enforcer.setRules(engine.currentRuleset.rules);
        // Names compared with fd.sip.name and its siblings are resolved off the event path.
        if (engine.currentRuleset) void state.watchHostNames(hostNamesToResolve(engine.currentRuleset));
        log.info({ rules: r.rules, files: r.files, warnings: r.warnings.length, ms: Math.round(r.durationMs) }, 'rules loaded');
        if (captures && engine.currentRuleset) captures.setRules(engine.currentRuleset.rules);
        opts.onRulesApplied?.();
      } else {
        logLoadMessages(r, log);
        if (engine.currentRuleset) log.error({ errors: r.errors.length }, 'rules not reloaded: keeping the running rules');
      }
    },
  });

  posture?.onStatusChange((change) => {
    if (isAlertworthy(change)) outputs.publishInternal(statusChangeToAlert(change, { hostname: host, timeNs: BigInt(Date.now()) * 1_000_000n }));
  });

  const hookTypes = hooks.flatMap((h) => [...(h.requiredEventTypes ?? [])]);
  const kernelCapture = (): KernelCapture | undefined => {
    const rs = engine.currentRuleset;
    if (!rs) return undefined;
    const watched = posture ? [...posture.watchedPaths()].map((prefix) => ({ prefix, writeOnly: true })) : [];
    return kernelCaptureFor(rs, { eventTypes: hookTypes, openPaths: watched });
  };

  const steps: LifecycleStep[] = [
    { name: 'outputs', start: () => outputs.start(), stop: () => outputs.close(outputsConfig.shutdown_deadline_ms) },
    { name: 'state', stop: () => state.close() },
  ];
  // Closed after the evaluation, so a match among the last events still lands in its capture.
  if (captures) steps.splice(1, 0, { name: 'captures', start: () => captures.start(), stop: () => captures.close() });
  // Closed after the evaluation: the last events may still change a check (and clear its timers).
  if (posture) steps.push({ name: 'posture', stop: () => posture.close() });
  steps.push(
    // Stopped after the source: what it delivered before detaching is still evaluated.
    { name: 'evaluation', stop: () => engine.flush() },
    {
      name: 'rules',
      start: () => {
        // The load's errors are already logged, each with file:line:column (onReload).
        const first: ReloadResult = rules.reload();
        if (!first.applied) throw new Error(first.errors.length === 1 ? first.errors[0]!.message : `the rules have ${first.errors.length} errors`);
      },
      stop: () => rules.close(),
    },
  );

  return {
    engine,
    state,
    rules,
    outputs,
    posture,
    captures,
    enforcer,
    histograms,
    // The capture ring keeps the batch before the rules run: a match's own batch is in its window.
    onBatch: captures
      ? (batch) => {
          captures.onBatch(batch);
          engine.processBatch(batch);
        }
      : (batch) => engine.processBatch(batch),
    kernelCapture,
    steps,
  };
}
