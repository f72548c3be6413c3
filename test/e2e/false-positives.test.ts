/**
 * False positives: about a minute of ordinary developer work (building a small C project,
 * running its test suite, shell scripts over files and archives) must not raise any default rule.
 * The workload runs as its own uid so alerts from anything else on the machine are told apart.
 */
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentHarness, named, run, skipReason } from './agent-harness';

const skip = skipReason();
const UID = 54321;
const WORKLOAD_SECONDS = Number(process.env.LANNER_FP_SECONDS ?? 60);

const FILES: Record<string, string> = {
  'src/stack.h': '#pragma once\n#include <stddef.h>\ntypedef struct { int *items; size_t len, cap; } stack;\nvoid stack_push(stack *s, int v);\nint stack_pop(stack *s);\nvoid stack_free(stack *s);\n',
  'src/stack.c':
    '#include "stack.h"\n#include <stdlib.h>\nvoid stack_push(stack *s, int v) {\n  if (s->len == s->cap) { s->cap = s->cap ? s->cap * 2 : 4; s->items = realloc(s->items, s->cap * sizeof(int)); }\n  s->items[s->len++] = v;\n}\nint stack_pop(stack *s) { return s->items[--s->len]; }\nvoid stack_free(stack *s) { free(s->items); s->items = NULL; s->len = s->cap = 0; }\n',
  'src/main.c': '#include <stdio.h>\n#include "stack.h"\nint main(void) { stack s = {0}; for (int i = 0; i < 10; i++) stack_push(&s, i); int sum = 0; while (s.len) sum += stack_pop(&s); printf("%d\\n", sum); stack_free(&s); return 0; }\n',
  'tests/test_stack.c':
    '#include <assert.h>\n#include <stdio.h>\n#include "../src/stack.h"\nint main(void) { stack s = {0}; for (int i = 0; i < 1000; i++) stack_push(&s, i); for (int i = 999; i >= 0; i--) assert(stack_pop(&s) == i); stack_free(&s); puts("ok"); return 0; }\n',
  Makefile:
    'CFLAGS ?= -O1 -Wall\nall: build/app\nbuild/%.o: src/%.c src/stack.h | build\n\t$(CC) $(CFLAGS) -c $< -o $@\nbuild:\n\tmkdir -p build\nbuild/app: build/main.o build/stack.o\n\t$(CC) -o $@ $^\nbuild/test_stack: tests/test_stack.c build/stack.o\n\t$(CC) $(CFLAGS) -o $@ $^\ntest: build/test_stack build/app\n\t./build/test_stack\n\t./build/app | grep -q 45\n\tsh tests/run.sh\nclean:\n\trm -rf build\n.PHONY: all test clean\n',
  'tests/run.sh': '#!/bin/sh\nset -e\nfor f in src/*.c; do wc -l "$f" > /dev/null; done\ngrep -c include src/*.c > /dev/null\necho "shell tests ok"\n',
  'scripts/churn.sh': [
    '#!/bin/bash',
    'set -euo pipefail',
    'work=$(mktemp -d "$PWD/churn.XXXXXX")',
    'for i in $(seq 1 40); do printf "line %d %s\\n" "$i" "$RANDOM" >> "$work/data.txt"; done',
    'sort -k3 -n "$work/data.txt" | awk \'{ s += $3 } END { print s }\' > "$work/sum"',
    'sed -e "s/line/row/" "$work/data.txt" | grep -c row > /dev/null',
    'find . -name "*.c" -newer Makefile -o -name "*.h" | xargs -r cat | md5sum > "$work/md5"',
    'tar -C "$work" -czf "$work.tgz" . && tar -tzf "$work.tgz" > /dev/null',
    'gzip -c "$work/data.txt" | gunzip | head -n 3 > /dev/null',
    'cut -d" " -f2 "$work/data.txt" | uniq | tr "\\n" "," > /dev/null',
    'date +%s > "$work/stamp"; stat "$work/stamp" > /dev/null; ls -la "$work" > /dev/null',
    'id > /dev/null; env | grep -c PATH > /dev/null; ps -o pid= -p $$ > /dev/null',
    'cp -r "$work" "$work.copy"; diff -r "$work" "$work.copy" > /dev/null; rm -rf "$work" "$work.copy" "$work.tgz"',
    '',
  ].join('\n'),
};

describe.skipIf(skip !== undefined)('default rules: no false positives on a normal workload', () => {
  let agent: AgentHarness;
  let tmp: string;
  let project: string;

  const asWorkload = (script: string): ReturnType<typeof run> =>
    run('setpriv', [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--inh-caps=-all', 'bash', '-c', script], {
      cwd: project,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: project, LANG: 'C' },
      timeoutMs: 120_000,
    });

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lanner-e2e-fp-'));
    chmodSync(tmp, 0o755);
    project = join(tmp, 'project');
    for (const [rel, text] of Object.entries(FILES)) {
      const p = join(project, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, text);
    }
    await run('chown', ['-R', `${UID}:${UID}`, project]);
    chownSync(project, UID, UID);
    agent = await AgentHarness.start();
  });

  afterAll(async () => {
    const exit = agent ? await agent.stop() : undefined;
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    if (exit) expect(exit.signal === null ? exit.code : exit.signal).toBe(0);
  });

  it(`${WORKLOAD_SECONDS}s of builds, test runs and shell scripts raise nothing`, { timeout: (WORKLOAD_SECONDS + 120) * 1000 }, async () => {
    const start = agent.mark();
    const deadline = Date.now() + WORKLOAD_SECONDS * 1000;
    let rounds = 0;
    while (Date.now() < deadline) {
      const r = await asWorkload('make -s clean && make -s all && make -s test && bash scripts/churn.sh');
      expect(r.code, `workload failed: ${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('shell tests ok');
      rounds++;
      // A developer's pace, not a stress test: the suite shares two cores with other agents.
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(rounds).toBeGreaterThan(1);

    // The agent must be watching this uid: a deliberate network-tool exec by the workload user alerts.
    const tool = named('/bin/true', join(tmp, 'seen'), 'nc');
    const marker = `lanner-fp-seen-${Date.now()}`;
    await asWorkload(`${tool} ${marker}`);
    await agent.waitFor((a) => a.rule === 'Network tool executed' && String(a.output_fields['proc.cmdline']).includes(marker), 15_000, start);
    await agent.barrier();

    const fromWorkload = agent.find((a) => a.seq >= start && Number(a.output_fields['user.uid']) === UID && !String(a.output_fields['proc.cmdline']).includes(marker));
    expect(fromWorkload.map((a) => `${a.rule}: ${a.output}`)).toEqual([]);
  });
});
