/**
 * One set of node flags for the agent wherever it starts: they bound V8's young generation, which
 * is what keeps the agent's RSS flat under churn (BENCHMARKS.md, memory), so a launcher without
 * them would quietly run a different memory profile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_NODE_FLAGS } from '../support/agent-node-flags';

const REPO = join(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

describe('agent node flags', () => {
  it('are set, and cap the young generation', () => {
    expect(AGENT_NODE_FLAGS).toContain('--max-semi-space-size=4');
  });

  it('are used by npm start and by the `lanner` shebang', () => {
    expect(pkg.scripts.start).toContain('node $npm_package_config_agent_node_flags dist/cli.js run');
    const shebang = readFileSync(join(REPO, 'src/cli.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${AGENT_NODE_FLAGS.join(' ')}`);
  });

  it('take effect: a node started with them has an 8 MiB new space at most', async () => {
    const { spawnSync } = await import('node:child_process');
    const probe = "const v8=require('v8');const k=[];for(let i=0;i<2e6;i++){k.push({i});if(k.length>1e5)k.splice(0,5e4);}" +
      "process.stdout.write(String(v8.getHeapSpaceStatistics().find(s=>s.space_name==='new_space').space_size))";
    const r = spawnSync(process.execPath, [...AGENT_NODE_FLAGS, '-e', probe], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(Number(r.stdout)).toBeLessThanOrEqual(8 * 2 ** 20);
  });
});
