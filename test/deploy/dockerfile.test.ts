/**
 * Static checks of deploy/Dockerfile: what can be read from the file, with the public bases a user
 * builds from. test/deploy/image.test.ts builds and runs the image for real, from local bases.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_NODE_FLAGS } from '../support/agent-node-flags';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './render';

export interface DockerInstruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const out: DockerInstruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) return;
    if (line.startsWith('#')) return;
    if (pending === '') start = i + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s+([\s\S]*)$/.exec(full);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), args: m[2]!.trim(), line: start });
  });
  return out;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: DockerInstruction[];
}

function stages(instructions: DockerInstruction[]): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  // An ARG default may use the ARGs declared before it (BUILD_BASE=node:${NODE_VERSION}-bookworm).
  const expand = (text: string): string => text.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? '');
  const result: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m) throw new Error(`line ${ins.line}: cannot read FROM ${ins.args}`);
      result.push({ image: expand(m[1]!), name: m[2], instructions: [] });
    } else if (result.length === 0) {
      if (ins.keyword === 'ARG') {
        const [k, v] = ins.args.split('=');
        args.set(k!, expand(v ?? ''));
      }
    } else result.at(-1)!.instructions.push(ins);
  }
  return { args, stages: result };
}

const text = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8');
const parsed = stages(parseDockerfile(text));
const runtime = parsed.stages.at(-1)!;

describe('deploy/Dockerfile', () => {
  it('parses continuation lines and stages', () => {
    const sample = parseDockerfile('# c\nARG V=1\nARG B=b:${V}.2\nFROM a:${V} AS x\nRUN a \\\n  && b\n\nFROM ${B}\nUSER 1\n');
    expect(sample.map((i) => i.keyword)).toEqual(['ARG', 'ARG', 'FROM', 'RUN', 'FROM', 'USER']);
    expect(sample[3]!.args.replace(/\s+/g, ' ')).toBe('a && b');
    expect(stages(sample).stages.map((s) => s.image)).toEqual(['a:1', 'b:1.2']);
  });

  it('is multi-stage: a node:20 bookworm build stage and a slim runtime stage', () => {
    expect(parsed.stages.length).toBeGreaterThanOrEqual(2);
    expect(parsed.stages[0]!.image).toMatch(/^node:20\.\d+\.\d+-bookworm$/);
    expect(runtime.image).toMatch(/^node:20\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/);
  });

  it('pins every base image by an exact version tag (or digest), never latest or a bare major', () => {
    for (const s of parsed.stages) {
      if (parsed.stages.some((o) => o.name === s.image)) continue; // FROM an earlier stage
      expect(s.image, s.image).toMatch(/(:[^:@]*\d+\.\d+\.\d+[^:@]*|@sha256:[0-9a-f]{64})/);
      expect(s.image).not.toMatch(/:latest\b/);
    }
  });

  it('uses the Node major the project declares', () => {
    const engines = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const major = /(\d+)/.exec(engines)![1];
    expect(parsed.args.get('NODE_VERSION')).toMatch(new RegExp(`^${major}\\.`));
  });

  it('installs only libbpf1 and libelf1 in the runtime stage', () => {
    const installs = runtime.instructions
      .filter((i) => i.keyword === 'RUN')
      .flatMap((i) => [...i.args.matchAll(/apt-get install\s+((?:-\S+\s+)*)([^&;|]+)/g)].map((m) => m[2]!.trim().split(/\s+/)))
      .flat();
    expect(installs.sort()).toEqual(['libbpf1', 'libelf1']);
    expect(runtime.instructions.some((i) => /rm -rf \/var\/lib\/apt\/lists/.test(i.args))).toBe(true);
  });

  it('runs as a numeric non-root user by default', () => {
    const users = runtime.instructions.filter((i) => i.keyword === 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args;
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).not.toBe(0);
  });

  it('copies the build output only from the named build stage, and uses exec-form ENTRYPOINT', () => {
    const names = new Set(parsed.stages.map((s) => s.name).filter(Boolean));
    for (const c of runtime.instructions.filter((i) => i.keyword === 'COPY')) {
      const from = /--from=(\S+)/.exec(c.args);
      expect(from, `runtime COPY without --from: ${c.args}`).not.toBeNull();
      expect(names.has(from![1]!)).toBe(true);
    }
    const entry = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT')!;
    // The agent's node flags are package.json config.agent_node_flags, wherever it is launched.
    expect(JSON.parse(entry.args)).toEqual(['node', ...AGENT_NODE_FLAGS, '/opt/lanner/dist/cli.js']);
    expect(parsed.stages.flatMap((s) => s.instructions).some((i) => i.keyword === 'ADD')).toBe(false);
  });

  it('copies from the build context only paths that exist and that the ignore file lets through', () => {
    const ignore = readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8');
    const allowed = ignore
      .split('\n')
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1).replace(/\/\*\*$/, ''));
    const sources = parsed.stages[0]!.instructions
      .filter((i) => i.keyword === 'COPY' && !/--from=/.test(i.args))
      .flatMap((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(3);
    const missing = sources.filter((s) => !existsSync(join(REPO_ROOT, s)));
    expect(missing, 'context paths the image build would not find').toEqual([]);
    for (const s of sources) expect(allowed, `${s} is excluded by Dockerfile.dockerignore`).toContain(s.replace(/\/$/, ''));
  });
});
