/**
 * The host-level checks of Lanner's node section (sshd, mandatory access control): not tied to a
 * running component, evaluated on every scan and whenever one of the files they read changes.
 */
import { existsSync } from 'node:fs';
import type { PostureConfig } from './config';
import type { HostFs } from './hostfs';
import { judgeMac, MAC_PATHS, NODE_CHECKS } from './node';
import type { PostureResults } from './results';
import { judgeKeyOnly, judgeNoRootLogin, sshdSettings } from './sshd';
import type { CheckResult } from './types';

export type HostCheck = 'sshd' | 'mac';
export const HOST_CHECKS: readonly HostCheck[] = ['sshd', 'mac'];

export interface HostCheckRun {
  readonly results: CheckResult[];
  /** Logical files and directories whose change re-runs this check. */
  readonly files: readonly string[];
  readonly dirs: readonly string[];
}

export function runHostCheck(which: HostCheck, cfg: PostureConfig, fs: HostFs, results: PostureResults): HostCheckRun {
  if (which === 'sshd') {
    const binaryReal = fs.real(cfg.paths.sshd);
    // `sshd -T` runs this machine's sshd on this machine's paths: only when the host is read in place.
    const binary = cfg.root === '/' && existsSync(binaryReal) ? binaryReal : undefined;
    const settings = sshdSettings({ config: cfg.paths.sshd_config, real: (p) => fs.real(p), binary });
    const files = [cfg.paths.sshd_config, cfg.paths.sshd];
    if (!settings) return { results: results.forgetNode([NODE_CHECKS.sshKeyOnly, NODE_CHECKS.sshNoRoot], 'sshd not installed'), files, dirs: [] };
    const note = settings.note !== undefined ? { note: settings.note } : {};
    const key = judgeKeyOnly(settings);
    const root = judgeNoRootLogin(settings);
    return {
      results: [
        ...results.recordNode(NODE_CHECKS.sshKeyOnly, key.passed, key.actual, cfg.paths.sshd_config, note),
        ...results.recordNode(NODE_CHECKS.sshNoRoot, root.passed, root.actual, cfg.paths.sshd_config, note),
      ],
      files,
      dirs: settings.includeDirs,
    };
  }
  const files = [MAC_PATHS.apparmor, MAC_PATHS.selinux];
  const sys = fs.real('/sys');
  const v = judgeMac((p) => fs.real(p), existsSync(fs.real(MAC_PATHS.sysModule)));
  return { results: v ? results.recordNode(NODE_CHECKS.mac, v.passed, v.actual, sys) : results.forgetNode([NODE_CHECKS.mac], `${sys} not visible`), files, dirs: [] };
}
