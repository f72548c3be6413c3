/**
 * Where the running kube-apiserver writes its audit log: its `--audit-log-path` flag, read from
 * /proc/<pid>/cmdline. The path is the API server's own view; when it is not visible on the host
 * as such (a static pod mounting the log directory elsewhere), the file is reached through the
 * process's root, /proc/<pid>/root/<path>.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

export interface ApiserverAuditLog {
  readonly pid: number;
  /** The flag's value as the API server sees it. */
  readonly flagValue: string;
  /** The path this agent opens. */
  readonly path: string;
}

/** The value of `--name=value` or `--name value` (the last one wins, as with Go's flag package). */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}` || a === `-${name}`) value = argv[++i];
    else if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
    else if (a.startsWith(`-${name}=`)) value = a.slice(name.length + 2);
  }
  return value;
}

/**
 * The audit log of the first kube-apiserver process found, or undefined when none runs, it logs
 * no audit events to a file (flag unset, or `-`: stdout) or its path is relative.
 */
export function findApiserverAuditLog(procRoot = '/proc'): ApiserverAuditLog | undefined {
  let pids: string[];
  try {
    pids = readdirSync(procRoot).filter((n) => /^\d+$/.test(n));
  } catch {
    return undefined;
  }
  for (const p of pids) {
    let comm: string;
    try {
      comm = readFileSync(join(procRoot, p, 'comm'), 'utf8').trim();
    } catch {
      continue;
    }
    if (comm !== 'kube-apiserver') continue;
    let argv: string[];
    try {
      argv = readFileSync(join(procRoot, p, 'cmdline'), 'utf8').split('\0').filter((a) => a !== '');
    } catch {
      continue;
    }
    const value = flagValue(argv, 'audit-log-path');
    if (value === undefined || value === '' || value === '-' || !isAbsolute(value)) return undefined;
    // The host path when its directory is visible here, else through the process's root.
    const viaRoot = join(procRoot, p, 'root', value);
    const path = existsSync(dirname(value)) || !existsSync(dirname(viaRoot)) ? value : viaRoot;
    return { pid: Number(p), flagValue: value, path };
  }
  return undefined;
}
