/**
 * The configuration a kubelet really runs with. The file named by `--config` (and only that
 * file: without the flag the kubelet reads no config file, whatever lies at the kubeadm path), the
 * `*.conf` drop-ins of `--config-dir` merged over it in name order (mappings merge key by key,
 * lists and scalars are replaced, as the kubelet's drop-in merge does), and the mode whose
 * defaults fill the rest (defaults.ts).
 */
import { posix } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { KubeletMode } from './defaults';

export interface KubeletConfigSources {
  /** Absolute logical paths from the command line. */
  readonly configFile: string | undefined;
  readonly configDir: string | undefined;
  /** Reads a logical file; undefined when unreadable. */
  readonly read: (logical: string) => string | undefined;
  /** Lists a logical directory; undefined when missing. */
  readonly list: (logical: string) => string[] | undefined;
}

export interface KubeletEffectiveConfig {
  readonly mode: KubeletMode;
  /** Merged settings from the file and drop-ins; undefined when neither gave any. */
  readonly config: Record<string, unknown> | undefined;
  /** Logical files that contributed, in merge order. */
  readonly files: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Merges `over` into `base` (mappings recursively, everything else replaced); returns base. */
export function mergeConfig(base: Obj, over: Obj): Obj {
  for (const [k, v] of Object.entries(over)) {
    const cur = base[k];
    if (isObj(cur) && isObj(v)) mergeConfig(cur, v);
    else base[k] = isObj(v) ? mergeConfig({}, v) : v;
  }
  return base;
}

function parseObj(text: string | undefined): Obj | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = parseYaml(text);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function kubeletEffectiveConfig(src: KubeletConfigSources): KubeletEffectiveConfig {
  const mode: KubeletMode = src.configFile !== undefined ? 'config file' : 'flags';
  let merged: Obj | undefined;
  const files: string[] = [];
  if (src.configFile !== undefined) {
    const base = parseObj(src.read(src.configFile));
    if (base) {
      merged = mergeConfig({}, base);
      files.push(src.configFile);
    }
  }
  if (src.configDir !== undefined) {
    const names = (src.list(src.configDir) ?? []).filter((n) => n.endsWith('.conf')).sort();
    for (const n of names) {
      const file = posix.join(src.configDir, n);
      const drop = parseObj(src.read(file));
      if (!drop) continue;
      merged = mergeConfig(merged ?? {}, drop);
      files.push(file);
    }
  }
  return { mode, config: merged, files };
}
