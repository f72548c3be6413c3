/**
 * Rules reload hazards on the running agent (issue 23, point 7): an emptied rules file is refused
 * at error level and the running rules stay; a 5 MB rules file is checked off the event loop, so
 * `/healthz` keeps answering within 500 ms, and refused for the memory it needs (engine.
 * reload_memory_mb) instead of growing the agent by ~250 MiB.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, run, skipReason } from '../e2e/agent-harness';

const reason = skipReason();
const tmp = mkdtempSync(join(tmpdir(), 'lanner-reload-'));
const rulesDir = join(tmp, 'rules.d');
const rulesFile = join(rulesDir, 'test.yaml');
const marker = join(tmp, 'marker.txt');
writeFileSync(marker, 'x\n');

/** The marker rule, and the rule the harness's barrier waits for. */
const BASE_RULES = [
  '- rule: Reload marker opened',
  '  desc: d',
  `  condition: evt.type in (open, openat, openat2) and fd.name = "${marker}"`,
  '  output: reload marker opened (file=%fd.name)',
  '  priority: NOTICE',
  '- rule: Network tool executed',
  '  desc: the harness barrier',
  '  condition: evt.type in (execve, execveat) and proc.name = nc',
  '  output: network tool (command=%proc.cmdline)',
  '  priority: NOTICE',
  '',
].join('\n');

/** About `bytes` of distinct rules shaped like real ones, then the base rules; and how many rules. */
function bigRules(bytes: number): { text: string; rules: number } {
  const parts = ['- list: gen_shells\n  items: [bash, sh, zsh, dash]\n', '- macro: gen_open\n  condition: evt.type in (open, openat, openat2)\n'];
  let size = 0;
  let i = 0;
  for (; size < bytes; i++) {
    const r =
      `- rule: Generated rule ${i}\n  desc: generated rule number ${i} for the reload test\n` +
      `  condition: gen_open and fd.name startswith /etc/gen${i}/ and proc.name in (gen_shells) and not user.name = nobody${i}\n` +
      `  output: "gen ${i} file=%fd.name proc=%proc.name user=%user.name"\n  priority: WARNING\n  tags: [gen]\n`;
    parts.push(r);
    size += r.length;
  }
  parts.push(BASE_RULES);
  return { text: parts.join(''), rules: i + 2 };
}

/** Milliseconds until /healthz answers (Infinity on an error). */
function healthzMs(port: number): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthz', timeout: 30_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', () => resolve(Infinity));
    req.end();
  });
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

describe.skipIf(reason !== undefined)('rules reload hazards', () => {
  let agent: AgentHarness;
  beforeAll(async () => {
    mkdirSync(rulesDir, { recursive: true });
    writeFileSync(rulesFile, BASE_RULES);
    agent = await AgentHarness.start({ rules: [rulesDir], overrides: ['watch_rules=false'] });
  }, 90_000);
  afterAll(async () => {
    await agent?.stop();
  });

  const markerFires = async (): Promise<void> => {
    const from = agent.mark();
    await run('cat', [marker]);
    await agent.waitFor((a) => a.rule === 'Reload marker opened' && a.output_fields['fd.name'] === marker, 15_000, from);
  };

  it('an emptied rules file is refused at error level and the running rules stay', async () => {
    await markerFires();
    writeFileSync(rulesFile, '');
    agent.signal('SIGHUP');
    const deadline = Date.now() + 20_000;
    while (!agent.stderrTail(200).includes('refusing an empty rule set')) {
      if (Date.now() > deadline) throw new Error(`no refusal in:\n${agent.stderrTail(20)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const lines = agent.stderrTail(200).split('\n');
    const refusal = lines.find((l) => l.includes('refusing an empty rule set'))!;
    expect(refusal).toContain('"level":50');
    expect(refusal).toContain('engine.allow_empty_rules');
    expect(lines.find((l) => l.includes('keeping the running rules'))).toContain('"level":50');
    await markerFires();
  }, 60_000);

  it('a 5 MB rules file is checked off the event loop: /healthz answers within 500 ms, memory stays bounded', async () => {
    const { text, rules } = bigRules(5_000_000);
    writeFileSync(rulesFile, text);
    const refusal = 'the rules need more than 64 MiB to compile';
    const before = count(agent.stderrTail(100_000), refusal);
    const rssBefore = rssMiB(agent.pid);
    const t0 = Date.now();
    agent.signal('SIGHUP');
    let worst = 0;
    let peakRss = rssBefore;
    let probes = 0;
    for (;;) {
      const ms = await healthzMs(agent.metricsPort);
      probes++;
      worst = Math.max(worst, ms);
      peakRss = Math.max(peakRss, rssMiB(agent.pid));
      const tail = agent.stderrTail(100_000);
      if (count(tail, refusal) > before) break;
      if (tail.split('\n').some((l) => l.includes('"msg":"rules loaded"') && l.includes(`"rules":${rules},`))) throw new Error('the 5 MB rule set was compiled on the main thread');
      if (Date.now() - t0 > 180_000) throw new Error(`no verdict within 180 s:\n${agent.stderrTail(10)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const checkMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    const rssAfter = rssMiB(agent.pid);
    console.log(`5 MB reload (${(text.length / 1e6).toFixed(1)} MB, ${rules} rules): refused after ${checkMs} ms; /healthz worst ${Math.round(worst)} ms over ${probes} probes; RSS ${rssBefore} → peak ${peakRss} → ${rssAfter} MiB`);
    expect(worst).toBeLessThan(500);
    // The worker's heap is capped at 64 MiB: the agent never holds the 5 MB rule set's ~250 MiB.
    expect(peakRss - rssBefore).toBeLessThan(160);
    expect(agent.stderrTail(100_000)).toContain('keeping the running rules');
    await markerFires();
  }, 240_000);
});
