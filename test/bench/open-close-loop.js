'use strict';
/*
 * The fixed open/close workload (workloads/open_close.c) for the probe benchmarks: compiled once,
 * run to completion, reporting its own CPU (getrusage, so BPF time in its syscalls counts) and the
 * CPU this process spent meanwhile (the probe's consumer runs here).
 */
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

function compileOpenClose() {
  const bin = join(mkdtempSync(join(tmpdir(), 'lanner-bench-')), 'open_close');
  execFileSync('cc', ['-O2', '-o', bin, join(__dirname, 'workloads', 'open_close.c')]);
  return bin;
}

/** Resolves { workloadCpuS, agentCpuS, wallS } once `loops` open+close pairs have run. */
function runOpenClose(bin, loops) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const cpu0 = process.cpuUsage();
    const child = spawn(bin, [String(loops)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const m = /cpu_ns=(\d+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`open_close failed (${code}): ${err}`));
      const cpu = process.cpuUsage(cpu0);
      resolve({ workloadCpuS: Number(m[1]) / 1e9, agentCpuS: (cpu.user + cpu.system) / 1e6, wallS: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

// The stock-rules event set (what Falco's default ruleset names), plus process lifecycle.
const DEFAULT_TYPES = new Set([
  'execve', 'execveat', 'clone', 'clone3', 'fork', 'vfork', 'open', 'openat', 'openat2', 'creat', 'connect', 'accept', 'accept4',
  'socket', 'bind', 'listen', 'rename', 'renameat', 'renameat2', 'unlink', 'unlinkat', 'mkdir', 'mkdirat', 'rmdir', 'symlink',
  'symlinkat', 'link', 'linkat', 'chmod', 'fchmod', 'fchmodat', 'setuid', 'setgid', 'setresuid', 'setresgid', 'ptrace', 'mount',
  'umount2', 'unshare', 'setns', 'memfd_create', 'bpf', 'init_module', 'finit_module', 'userfaultfd', 'prctl', 'chroot', 'kill',
  'dup', 'dup2', 'dup3', 'fcntl', 'close',
]);

/** `--name N` from the command line as a number, or `def`. */
function numberArg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

/**
 * The set-up every probe benchmark shares: `--loops` (1M) and `--rounds` (`defaultRounds`) from
 * the command line, and `runLoop()` running the compiled loop once.
 */
function openCloseBench(defaultRounds) {
  const loops = numberArg('loops', 1_000_000);
  const rounds = numberArg('rounds', defaultRounds);
  const bin = compileOpenClose();
  return { loops, rounds, runLoop: () => runOpenClose(bin, loops) };
}

/** Middle value (upper median for an even count). */
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Every loaded BPF program as bpftool describes it (with run_cnt/run_time_ns when stats are on). */
function listBpfProgs() {
  return JSON.parse(execFileSync('bpftool', ['prog', 'show', '-j'], { encoding: 'utf8' }));
}

/** Turns on kernel.bpf_stats_enabled (per-program run counts and times) until this process exits. */
function enableBpfStats() {
  const was = execFileSync('sysctl', ['-n', 'kernel.bpf_stats_enabled'], { encoding: 'utf8' }).trim();
  execFileSync('sysctl', ['-q', '-w', 'kernel.bpf_stats_enabled=1']);
  process.on('exit', () => execFileSync('sysctl', ['-q', '-w', `kernel.bpf_stats_enabled=${was}`]));
}

module.exports = { compileOpenClose, runOpenClose, numberArg, openCloseBench, median, listBpfProgs, enableBpfStats, DEFAULT_TYPES };
