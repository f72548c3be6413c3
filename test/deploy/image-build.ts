/**
 * Builds deploy/Dockerfile for real with podman where no registry is reachable. The Dockerfile's
 * bases come from its build arguments: here both are one local base, Debian bookworm minbase made
 * with mmdebstrap from this host's Debian sources, plus the Node.js runtime this host runs (the
 * node binary, npm, corepack and the headers, at the same paths) and this host's extra CA
 * certificates (an intercepting proxy's, for npm). The base is cached as a podman image and as a
 * tar under the cache directory, both named by a hash of everything that goes into it, so a rerun
 * reuses it and any change of input builds a new one; a clean machine builds it from scratch.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './render';

export const PODMAN = '/usr/bin/podman';
export const MMDEBSTRAP = '/usr/bin/mmdebstrap';
const SUITE = 'bookworm';
/** Bump when the recipe below changes in a way the hashed inputs do not show. */
const RECIPE = 'lanner-node-base-1';
const DEBIAN_SOURCES = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
const LOCAL_CA_DIR = '/usr/local/share/ca-certificates';
/** Debian's: the node binary links libstdc++; npm needs the CA bundle. */
const BASE_PACKAGES = ['libstdc++6', 'ca-certificates'];
/** This host's archive may be a snapshot whose Release files have expired. */
const APT_OPTIONS = ['Acquire::Check-Valid-Until "false"', 'Acquire::Check-Date "false"'];

export const CACHE_DIR = process.env.LANNER_TEST_CACHE ?? join(tmpdir(), 'lanner-test-cache');

/** Why the image cannot be built here, or undefined. */
export function imageBuildUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'building and running the image with podman needs root';
  if (!existsSync(PODMAN)) return `${PODMAN} is missing (Debian package podman)`;
  if (!existsSync(MMDEBSTRAP)) return `${MMDEBSTRAP} is missing (Debian package mmdebstrap; bash deploy/host/setup.sh test)`;
  if (debianSources() === undefined) return `no Debian sources list (${DEBIAN_SOURCES.join(', ')})`;
  return undefined;
}

function debianSources(): string | undefined {
  return DEBIAN_SOURCES.find((p) => existsSync(p));
}

/** The Node.js install this process runs from: paths relative to `/`, all under its prefix. */
export function nodeRuntimePaths(): string[] {
  const prefix = dirname(dirname(process.execPath));
  const paths = [process.execPath, join(prefix, 'bin', 'npm'), join(prefix, 'bin', 'npx'), join(prefix, 'bin', 'corepack'), join(prefix, 'include', 'node'), join(prefix, 'lib', 'node_modules', 'npm'), join(prefix, 'lib', 'node_modules', 'corepack')];
  const missing = paths.filter((p) => !existsSync(p) && !p.endsWith('corepack'));
  if (missing.length > 0) throw new Error(`this host's Node.js install lacks ${missing.join(', ')}`);
  return paths.filter((p) => existsSync(p)).map((p) => relative('/', p));
}

function localCaFiles(): string[] {
  if (!existsSync(LOCAL_CA_DIR)) return [];
  return readdirSync(LOCAL_CA_DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.crt')).sort().map((f) => join(LOCAL_CA_DIR, f));
}

/** Hash of every input of the base: recipe, sources, packages, Node's binary and npm, CA files. */
export function localBaseKey(): string {
  const h = createHash('sha256');
  const sources = debianSources()!;
  h.update(`${RECIPE}\n${SUITE}\n${BASE_PACKAGES.join(',')}\n${APT_OPTIONS.join('\n')}\n${sources}\n`);
  h.update(readFileSync(sources));
  h.update(readFileSync(process.execPath));
  h.update(readFileSync(join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'package.json')));
  for (const f of localCaFiles()) h.update(`${f}\n`).update(readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

function podmanImageExists(ref: string): boolean {
  return spawnSync(PODMAN, ['image', 'exists', ref]).status === 0;
}

/** Runs a command, streaming nothing; rejects with the tail of its output when it fails. */
function runLogged(cmd: string, args: readonly string[], logFile: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    mkdirSync(dirname(logFile), { recursive: true });
    let out = '';
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (d: Buffer): void => {
      out += d.toString();
      if (out.length > 4 * 1024 * 1024) out = out.slice(-2 * 1024 * 1024);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      writeFileSync(logFile, out);
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.slice(0, 3).join(' ')} … failed (${signal ?? code}); log ${logFile}:\n${out.split('\n').slice(-40).join('\n')}`));
    });
  });
}

export interface LocalBase {
  readonly ref: string;
  /** How it was obtained: already in podman's store, imported from the cached tar, or built. */
  readonly source: 'podman' | 'cache' | 'mmdebstrap';
}

/** The local base image, from podman's store, the cache directory, or mmdebstrap (in that order). */
export async function ensureLocalBase(): Promise<LocalBase> {
  const key = localBaseKey();
  const ref = `localhost/lanner-test/node-base:${key}`;
  if (podmanImageExists(ref)) return { ref, source: 'podman' };
  mkdirSync(CACHE_DIR, { recursive: true });
  const tar = join(CACHE_DIR, `node-base-${key}.tar`);
  let source: LocalBase['source'] = 'cache';
  if (!existsSync(tar)) {
    source = 'mmdebstrap';
    const list = join(CACHE_DIR, `node-base-${key}.paths`);
    writeFileSync(list, `${nodeRuntimePaths().join('\n')}\n`);
    const ca = localCaFiles().map((f) => relative('/', f));
    const partial = `${tar}.partial`;
    rmSync(partial, { force: true });
    await runLogged(
      MMDEBSTRAP,
      [
        '--variant=minbase',
        `--include=${BASE_PACKAGES.join(',')}`,
        ...APT_OPTIONS.map((o) => `--aptopt=${o}`),
        // Node.js exactly as this host has it, at the same paths.
        `--customize-hook=tar -C / -cf - -T ${list} ${ca.join(' ')} | tar -C "$1" -xf -`,
        ...(ca.length > 0 ? ['--customize-hook=chroot "$1" update-ca-certificates'] : []),
        '--format=tar',
        SUITE,
        partial,
        debianSources()!,
      ],
      join(CACHE_DIR, `node-base-${key}.log`),
      15 * 60_000,
    );
    renameSync(partial, tar);
  }
  execFileSync(PODMAN, [
    'import',
    '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    // Node reads its extra CAs from here; Debian's bundle then includes this host's own CAs.
    '--change', 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    '--change', 'CMD ["node"]',
    tar, ref,
  ], { stdio: 'pipe' });
  return { ref, source };
}

/**
 * `podman build` of deploy/Dockerfile from the repository root with both bases set to `base`.
 * Build containers use the host's network: apt and npm reach their archives as the host does.
 */
export async function buildAgentImage(base: string, tag: string, logFile: string): Promise<void> {
  await runLogged(
    PODMAN,
    ['build', '--network', 'host', '--layers', '-f', join(REPO_ROOT, 'deploy', 'Dockerfile'), '--build-arg', `BUILD_BASE=${base}`, '--build-arg', `RUNTIME_BASE=${base}`, '-t', tag, REPO_ROOT],
    logFile,
    30 * 60_000,
  );
}

/** The image's size in bytes as podman reports it (uncompressed layers). */
export function imageSizeBytes(ref: string): number {
  return Number(execFileSync(PODMAN, ['image', 'inspect', '--format', '{{.Size}}', ref], { encoding: 'utf8' }).trim());
}
