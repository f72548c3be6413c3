/** Values the agent derives from its configuration, in one place for every command. */
import { hostname } from 'node:os';
import type { LannerConfig } from '../config';
import { expandRulesPaths } from '../engine';
import type { Logger } from '../log';
import { parsePriority, type PriorityNum } from '../outputs/alert';
import { probeOptionsFromConfig, type ProbeConfig, type ProbeOptions } from '../probe';
import { resolvePackagePath } from '../package';
import { formatLoadMessage, type LoadMessage } from '../rules';
import type { RulesetOptions } from '../rules/ruleset';
import type { AlertShaping } from '../outputs';
import type { StateConfig } from '../state/config';

/** The host name put in alerts and metrics: config, else the node name (DaemonSet), else the OS's. */
export function resolveHostname(config: LannerConfig): string {
  return config.hostname || process.env.NODE_NAME || hostname();
}

/** Rule files in load order: directories expand to their *.yaml/*.yml files, sorted. */
export function rulesPaths(config: LannerConfig): string[] {
  return expandRulesPaths(config.rules_files.map((p) => resolvePackagePath(p)));
}

export function minPriorityOf(config: LannerConfig): PriorityNum {
  return parsePriority(config.priority) ?? 7;
}

/** What the rules compile with: the priority floor, container fields and `append_output`. */
export function rulesetOptionsOf(config: LannerConfig): RulesetOptions {
  return { minPriority: minPriorityOf(config), appendContainerFields: config.engine.append_container_fields, appendOutput: config.append_output };
}

/** Redaction and static fields, applied by the outputs to every alert. */
export function alertShapingOf(config: LannerConfig): AlertShaping {
  return { redaction: config.redaction, staticFields: config.static_fields };
}

/** Probe options: the `probe:` section, plus the exec environment the state keeps per process. */
export function probeOptionsOf(config: LannerConfig): ProbeOptions {
  return { ...probeOptionsFromConfig(config.probe as ProbeConfig), maxEnvBytes: (config.state as StateConfig).max_env_bytes };
}

/** Load errors and warnings as log lines, each with file:line:column. */
export function logLoadMessages(result: { errors: readonly LoadMessage[]; warnings: readonly LoadMessage[] }, log: Logger): void {
  for (const w of result.warnings) log.warn({ code: w.code, file: w.file, line: w.line, column: w.column }, formatLoadMessage(w));
  for (const e of result.errors) log.error({ code: e.code, file: e.file, line: e.line, column: e.column }, formatLoadMessage(e));
}
