/**
 * False positives: ordinary work on a node must not raise any default rule.
 * - About a minute of developer work as an unprivileged account: building a small C project,
 *   running its test suite, shell scripts over files and archives, git on a local repository, a
 *   Node and a Python HTTP service answering requests.
 * - Administration as root: reinstalling a package from the local APT cache, installing and
 *   removing a locally built .deb (with maintainer scripts), running a podman container, an SSH
 *   login of the workload account that builds the project.
 * The unprivileged work runs as its own uid; root work is told apart by process ancestry (every
 * rule's output gets the acting process's ancestor pids appended, as test/triggers does; the
 * rules' conditions are untouched).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../support/net';
import { belongsTo, loadedRules, overlayYaml } from '../triggers/overlay';
import { AgentHarness, DEFAULT_RULES, named, run, skipReason, type AlertRecord } from './agent-harness';

const skip = skipReason();
const UID = 54321;
const ACCOUNT = 'lannerfp';
const SSHD = '/usr/sbin/sshd';
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => spawnSync(p, ['true']).status === 0);
/** What the root half needs; missing pieces are skipped with the reason printed (failures in CI). */
const rootWorkUnavailable =
  spawnSync('podman', ['--version']).status !== 0 ? 'podman is not installed'
  : BUSYBOX === undefined ? 'busybox-static is not installed'
  : !existsSync(SSHD) ? 'openssh-server is not installed'
  : spawnSync('useradd', ['--help']).status !== 0 ? 'useradd is not available'
  : undefined;

/** An installed package whose exact .deb is in APT's cache, so it reinstalls without a download. */
function cachedInstalledPackage(): string | undefined {
  const dir = '/var/cache/apt/archives';
  if (!existsSync(dir)) return undefined;
  const debs = readdirSync(dir).filter((f) => f.endsWith('.deb'));
  for (const f of debs) {
    const info = spawnSync('dpkg-deb', ['-f', join(dir, f), 'Package', 'Version'], { encoding: 'utf8' }).stdout;
    const pkg = /Package: (\S+)/.exec(info)?.[1];
    const version = /Version: (\S+)/.exec(info)?.[1];
    if (!pkg || !version) continue;
    const installed = spawnSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' });
    if (installed.status === 0 && installed.stdout === version) return pkg;
  }
  return undefined;
}
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
  // git on a local repository: commits, a branch and merge, a clone over file://, gc.
  'scripts/git.sh': [
    '#!/bin/bash',
    'set -euo pipefail',
    'export GIT_AUTHOR_NAME=dev GIT_AUTHOR_EMAIL=dev@example.test GIT_COMMITTER_NAME=dev GIT_COMMITTER_EMAIL=dev@example.test',
    'repo=$(mktemp -d "$PWD/repo.XXXXXX")',
    'git init -q -b main "$repo"',
    'cp -r src Makefile "$repo"/ && cd "$repo"',
    'git add -A && git commit -q -m "import"',
    'git checkout -q -b feature && echo "/* note */" >> src/main.c && git commit -q -am "note"',
    'git checkout -q main && git merge -q --no-edit feature && git log --oneline > /dev/null && git diff HEAD~1 > /dev/null',
    'git clone -q "file://$repo" "$repo.clone" && git -C "$repo.clone" status --short > /dev/null',
    'git gc -q && git tag -a v1 -m v1 && git describe > /dev/null',
    'cd / && rm -rf "$repo" "$repo.clone"',
    '',
  ].join('\n'),
  // A Node and a Python HTTP service on loopback, each answering a few requests.
  'scripts/services.sh': [
    '#!/bin/bash',
    'set -euo pipefail',
    'node -e "require(\'http\').createServer((q, r) => r.end(\'ok\')).listen(+process.argv[1], \'127.0.0.1\')" "$NODE_PORT" & node_pid=$!',
    '/usr/bin/python3 -m http.server "$PY_PORT" --bind 127.0.0.1 --directory src > /dev/null 2>&1 & py_pid=$!',
    'for i in $(seq 1 50); do curl -fs "http://127.0.0.1:$NODE_PORT/" > /dev/null && curl -fs "http://127.0.0.1:$PY_PORT/main.c" > /dev/null && break; sleep 0.1; done',
    'for i in $(seq 1 10); do curl -fs "http://127.0.0.1:$NODE_PORT/x$i" > /dev/null; curl -fs "http://127.0.0.1:$PY_PORT/stack.h" > /dev/null; done',
    'kill $node_pid $py_pid; wait $node_pid $py_pid 2>/dev/null || true',
    'echo "services ok"',
    '',
  ].join('\n'),
};

describe.skipIf(skip !== undefined)('default rules: no false positives on a normal workload', () => {
  let agent: AgentHarness;
  let tmp: string;
  let project: string;
  let nodePort = 0;
  let pyPort = 0;

  const asWorkload = (script: string): ReturnType<typeof run> =>
    run('setpriv', [`--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--inh-caps=-all', 'bash', '-c', script], {
      cwd: project,
      env: { PATH: `${join(process.execPath, '..')}:/usr/local/bin:/usr/bin:/bin`, HOME: project, LANG: 'C', NODE_PORT: String(nodePort), PY_PORT: String(pyPort) },
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
    nodePort = await freeLoopbackPort();
    pyPort = await freeLoopbackPort();
    const overlay = join(tmp, 'attribution.yaml');
    writeFileSync(overlay, overlayYaml(loadedRules(DEFAULT_RULES), { enableAll: false, barrier: false }));
    agent = await AgentHarness.start({ rules: [...DEFAULT_RULES, overlay] });
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
      const r = await asWorkload('make -s clean && make -s all && make -s test && bash scripts/churn.sh && bash scripts/git.sh && bash scripts/services.sh');
      expect(r.code, `workload failed: ${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('shell tests ok');
      expect(r.stdout).toContain('services ok');
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

  describe.skipIf(rootWorkUnavailable !== undefined)('administration as root', () => {
    let sshd: ChildProcess | undefined;
    let sshPort = 0;
    let accountCreated = false;

    beforeAll(async () => {
      // The workload uid gets a passwd entry so sshd lets it log in (created and removed by the test).
      if (spawnSync('getent', ['passwd', ACCOUNT]).status !== 0) {
        // Password '*': no password login, but not locked ('!'), which sshd without PAM refuses outright.
        const u = spawnSync('useradd', ['-M', '-u', String(UID), '-U', '-p', '*', '-d', project, '-s', '/bin/bash', ACCOUNT], { encoding: 'utf8' });
        if (u.status !== 0) throw new Error(`useradd: ${u.stderr}`);
        accountCreated = true;
      }
      for (const [file, type] of [['hostkey', 'ed25519'], ['id', 'ed25519']] as const) {
        const r = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', join(tmp, file)], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
      }
      writeFileSync(join(tmp, 'authorized_keys'), readFileSync(join(tmp, 'id.pub')), { mode: 0o644 });
      sshPort = await freeLoopbackPort();
      writeFileSync(
        join(tmp, 'sshd_config'),
        [
          `Port ${sshPort}`, 'ListenAddress 127.0.0.1', `HostKey ${join(tmp, 'hostkey')}`, `PidFile ${join(tmp, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
          'UsePAM no', 'StrictModes no', 'LogLevel ERROR', '',
        ].join('\n'),
      );
      mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    });

    afterAll(async () => {
      if (sshd && sshd.exitCode === null) {
        sshd.kill('SIGTERM');
        await new Promise((r) => sshd!.once('exit', r));
      }
      if (accountCreated) spawnSync('userdel', [ACCOUNT]);
      spawnSync('dpkg', ['-P', 'lanner-fp-hello']);
    });

    /** A .deb with a program, a doc file and maintainer scripts, built here. */
    const buildDeb = (): string => {
      const root = join(tmp, 'deb');
      for (const d of ['DEBIAN', 'usr/bin', 'usr/share/doc/lanner-fp-hello']) mkdirSync(join(root, d), { recursive: true });
      writeFileSync(join(root, 'DEBIAN/control'), 'Package: lanner-fp-hello\nVersion: 1.0\nArchitecture: all\nMaintainer: Lanner tests <tests@example.test>\nDescription: false-positive workload package\n');
      writeFileSync(join(root, 'DEBIAN/postinst'), '#!/bin/sh\nset -e\nif [ "$1" = configure ]; then ln -sf lanner-fp-hello /usr/bin/lanner-fp-hi; fi\n', { mode: 0o755 });
      writeFileSync(join(root, 'DEBIAN/prerm'), '#!/bin/sh\nset -e\nrm -f /usr/bin/lanner-fp-hi\n', { mode: 0o755 });
      writeFileSync(join(root, 'usr/bin/lanner-fp-hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
      writeFileSync(join(root, 'usr/share/doc/lanner-fp-hello/copyright'), 'Apache-2.0\n');
      const deb = join(tmp, 'lanner-fp-hello_1.0_all.deb');
      const r = spawnSync('dpkg-deb', ['--root-owner-group', '--build', root, deb], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`dpkg-deb: ${r.stderr}`);
      return deb;
    };

    /** A busybox rootfs for podman. */
    const buildRootfs = (): string => {
      const dir = join(tmp, 'rootfs');
      for (const d of ['bin', 'proc', 'dev', 'sys', 'tmp', 'etc']) mkdirSync(join(dir, d), { recursive: true });
      copyFileSync(BUSYBOX!, join(dir, 'bin/busybox'));
      chmodSync(join(dir, 'bin/busybox'), 0o755);
      for (const a of ['sh', 'ls', 'echo', 'cat', 'sleep', 'wc', 'sort']) symlinkSync('busybox', join(dir, 'bin', a));
      writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
      return dir;
    };

    it('package installs, a container run and an SSH session raise nothing', { timeout: 600_000 }, async () => {
      const start = agent.mark();
      const pids: number[] = [];
      const asRoot = async (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> => {
        const r = await run(cmd, args, { env, timeoutMs: 300_000 });
        pids.push(r.pid);
        expect(r.code, `${cmd} ${args.join(' ')} failed: ${r.stdout}\n${r.stderr}`).toBe(0);
        return r.stdout;
      };
      const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

      // Packages: a reinstall from APT's local cache (no download), a local .deb in and out.
      const cached = cachedInstalledPackage();
      if (cached !== undefined) await asRoot('apt-get', ['install', '--reinstall', '-y', '--no-download', '-o', 'DPkg::Lock::Timeout=120', cached], aptEnv);
      else console.warn('no installed package has its .deb in /var/cache/apt/archives: reinstall step skipped');
      await asRoot('dpkg', ['-i', buildDeb()], aptEnv);
      expect(await asRoot('lanner-fp-hi', [])).toContain('hello');
      await asRoot('dpkg', ['-P', 'lanner-fp-hello'], aptEnv);

      // A container running its entrypoint, inspected with podman.
      const cidfile = join(tmp, 'cid');
      await asRoot('podman', [
        'run', '--rm', '--runtime', 'runc', '--ulimit', 'nofile=1024:2048', '--ulimit', 'nproc=1024:2048', '--network', 'none',
        '--cidfile', cidfile, '--rootfs', buildRootfs(), '/bin/sh', '-c', 'sleep 1; echo hi; ls / | wc -l; cat /etc/passwd | sort > /dev/null; sleep 1',
      ]);
      const containerId = readFileSync(cidfile, 'utf8').trim().slice(0, 12);
      await asRoot('podman', ['ps', '-a']);

      // An SSH login of the workload account, building the project in its session.
      sshd = spawn(SSHD, ['-D', '-e', '-f', join(tmp, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
      pids.push(sshd.pid!);
      const ssh = (): ReturnType<typeof run> =>
        run('ssh', [
          '-i', join(tmp, 'id'), '-p', String(sshPort), '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
          '-o', 'LogLevel=ERROR', `${ACCOUNT}@127.0.0.1`, 'cd ~ && make -s clean all test && git --version && echo session-ok',
        ], { timeoutMs: 120_000 });
      let session = await ssh();
      for (let i = 0; i < 50 && !session.stdout.includes('session-ok'); i++) {
        await new Promise((r) => setTimeout(r, 200));
        session = await ssh();
      }
      pids.push(session.pid);
      expect(session.stdout, session.stderr).toContain('session-ok');

      await agent.barrier();
      const ours = (a: AlertRecord): boolean =>
        a.seq >= start && !agent.isBarrier(a) && (Number(a.output_fields['user.uid']) === UID || belongsTo(a, { pids, containerId }));
      expect(agent.find(ours).map((a) => `${a.rule}: ${a.output}`)).toEqual([]);
    });
  });
});
