/**
 * The codebase's shape, checked: the dependency rules catch a cycle and an arrow back up the
 * pipeline (so `npm run check:deps` can fail), and no source file outgrows what one reader holds.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(__dirname, '../..');
const DEPCRUISE = join(REPO, 'node_modules/.bin/depcruise');
const MAX_SOURCE_LINES = 600;

function depcruise(cwd: string): { status: number | null; out: string } {
  const r = spawnSync(DEPCRUISE, ['src', '--config', join(REPO, '.dependency-cruiser.cjs'), '--output-type', 'err'], { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A throwaway tree with its own tsconfig, so the rules are tried on code made to break them. */
function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lanner-deps-'));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'commonjs', strict: true } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('dependency rules', () => {
  it('pass on this repository', () => {
    const r = depcruise(REPO);
    expect(r.out).not.toMatch(/error/);
    expect(r.status).toBe(0);
  });

  it('fail on an import cycle', () => {
    const dir = tree({
      'src/rules/a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
      'src/rules/b.ts': "import { a } from './a';\nexport const b = (): number => (a ? 1 : 0);\n",
    });
    const r = depcruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/no-circular/);
  });

  it('fail on an arrow back up the pipeline', () => {
    const dir = tree({
      'src/outputs/sink.ts': "export const sink = 1;\n",
      'src/rules/r.ts': "import { sink } from '../outputs/sink';\nexport const r = sink;\n",
    });
    const r = depcruise(dir);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/rules-below-engine/);
  });
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.(ts|c|h|cc)$/.test(name) && name !== 'vmlinux.h' ? [p] : [];
  });
}

describe('source files', () => {
  it(`are at most ${MAX_SOURCE_LINES} lines`, () => {
    const long = [...sourceFiles(join(REPO, 'src')), ...sourceFiles(join(REPO, 'native'))]
      .map((f) => ({ file: relative(REPO, f), lines: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter((f) => f.lines > MAX_SOURCE_LINES);
    expect(long).toEqual([]);
  });

  it('read nothing from outside the repository', () => {
    const outside = [...sourceFiles(join(REPO, 'src')), ...sourceFiles(join(REPO, 'test'))].filter((f) => /['"`](\/work\/|\.\.\/\.\.\/\.\.\/shared)/.test(readFileSync(f, 'utf8')));
    expect(outside.map((f) => relative(REPO, f))).toEqual([]);
  });
});
