/**
 * Kernel-test gate and helpers. Kernel tests need root (CAP_BPF+CAP_PERFMON), BTF and the built
 * addon. When any is missing they FAIL under CI=true and skip with the reason elsewhere.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { it, type TestContext } from 'vitest';
import { ADDON_PATH } from '../../src/probe/native';

export function kernelUnavailableReason(): string | undefined {
  if (!existsSync(ADDON_PATH)) return `addon not built (${ADDON_PATH}); run npm run build:native`;
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'kernel BTF missing (/sys/kernel/btf/vmlinux)';
  const status = readFileSync('/proc/self/status', 'utf8');
  const capEff = BigInt('0x' + (/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'));
  const needed = (1n << 38n) | (1n << 39n);
  if ((capEff & needed) !== needed && (capEff & (1n << 21n)) === 0n) return `missing CAP_BPF/CAP_PERFMON (CapEff=${capEff.toString(16)})`;
  return undefined;
}

/** `it` for tests that need the kernel probe: fails in CI when it cannot run, else skips with the reason. */
export function kernelIt(name: string, fn: (ctx: TestContext) => Promise<void> | void, timeout?: number): void {
  const reason = kernelUnavailableReason();
  if (reason === undefined) {
    it(name, fn, timeout);
  } else if (process.env.CI === 'true') {
    it(name, () => {
      throw new Error(`kernel test cannot run: ${reason}`);
    });
  } else {
    console.warn(`skipping '${name}': ${reason}`);
    it.skip(name, fn);
  }
}

let helper: string | undefined;

/** Compiles test/probe/fixtures/actions.c once per process. */
export function actionsBinary(): string {
  if (helper) return helper;
  const dir = mkdtempSync(join(tmpdir(), 'lanner-probe-'));
  const out = join(dir, 'actions');
  execFileSync('cc', ['-O1', '-o', out, resolve(__dirname, 'fixtures/actions.c')]);
  helper = out;
  return out;
}

let ia32: string | undefined;

/** Compiles test/probe/fixtures/ia32.c as a libc-free i386 program (int 0x80 syscalls). */
export function ia32Binary(): string {
  if (ia32) return ia32;
  const dir = mkdtempSync(join(tmpdir(), 'lanner-probe-ia32-'));
  const out = join(dir, 'ia32');
  execFileSync('cc', ['-m32', '-nostdlib', '-static', '-ffreestanding', '-fno-pie', '-no-pie', '-O1', '-o', out, resolve(__dirname, 'fixtures/ia32.c')]);
  ia32 = out;
  return out;
}

/**
 * Why this machine cannot run i386 programs, or undefined when it can. A kernel built or booted
 * without IA-32 emulation refuses every i386 execve with ENOEXEC: there is then no 32-bit program
 * to trace, which is the kernel's choice, not the probe's failure.
 */
export function ia32UnsupportedReason(): string | undefined {
  // Through a shell's exec: libuv falls back to running an ENOEXEC file as a shell script, which
  // would hide the kernel's answer.
  const r = spawnSync('/bin/sh', ['-c', 'exec "$0" /nonexistent/dir/x 1', ia32Binary()], { encoding: 'utf8' });
  return r.status === 126 && /format error/i.test(r.stderr) ? 'this kernel runs no i386 programs (execve of an i386 ELF returns ENOEXEC: IA-32 emulation is off)' : undefined;
}
