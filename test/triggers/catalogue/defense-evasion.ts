/** Defense evasion and impact: log and history wiping, hiding, anti-debugging, binary tampering (TA0005, TA0040). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trigger } from '../trigger';

const ID = process.pid;

export const defenseEvasion: readonly Trigger[] = [
  {
    id: 'truncate-log-file',
    technique: 'T1070.002',
    what: 'a log file below /var/log truncated with a shell redirection',
    stock: ['Clear Log Activities'],
    defaults: ['System log deleted or truncated'],
    act: (env) => env.sh(`: > ${env.file(`/var/log/lanner-trigger-${ID}.log`, 'line\n')}`),
    benign: (env) => env.sh(`echo more >> ${env.file(`/var/log/lanner-trigger-${ID}-b.log`, 'line\n')}`),
  },
  {
    id: 'delete-shell-history',
    technique: 'T1070.003',
    what: 'rm of a .bash_history file',
    stock: ['Delete or rename shell history'],
    defaults: ['Shell history deleted or truncated'],
    act: (env) => {
      const f = join(env.dir('home'), '.bash_history');
      writeFileSync(f, 'ls\n');
      return env.host('rm', ['-f', f]);
    },
    benign: (env) => {
      const f = join(env.dir('home'), 'notes.txt');
      writeFileSync(f, 'ls\n');
      return env.host('rm', ['-f', f]);
    },
  },
  {
    id: 'ptrace-traceme-anti-debug',
    technique: 'T1622',
    what: 'a process calls ptrace(PTRACE_TRACEME) so no debugger can attach',
    stock: ['PTRACE anti-debug attempt'],
    defaults: ['Process made itself traceable (anti-debugging)'],
    act: (env) => env.host(env.act, ['ptrace-traceme']),
    // A debugger's child asks to be traced so the debugger can follow it.
    benign: (env) => env.host(env.named(env.act, 'gdb'), ['ptrace-traceme']),
    quietRules: ['Process made itself traceable (anti-debugging)'],
  },
  {
    id: 'bpf-program-load',
    technique: 'T1014',
    what: 'bpf(BPF_PROG_LOAD) of a two-instruction socket filter',
    stock: ['BPF Program Not Profiled'],
    defaults: ['BPF program loaded by unexpected process'],
    act: (env) => env.host(env.act, ['bpf-prog-load']),
    benign: (env) => env.host(env.act, ['bpf-map-create']),
  },
  {
    id: 'hidden-directory-in-var-tmp',
    technique: 'T1564.001',
    what: 'mkdir /var/tmp/.lanner-trigger (a hidden working directory)',
    stock: ['Create Hidden Files or Directories'],
    defaults: ['Hidden directory created in a system or temporary path'],
    act: (env) => env.host('mkdir', [env.own(`/var/tmp/.lanner-trigger-${ID}`)]),
    benign: (env) => env.host('mkdir', [env.own(`/var/tmp/lanner-trigger-${ID}`)]),
  },
  {
    id: 'file-created-below-dev',
    technique: 'T1564.001',
    what: 'touch /dev/lanner-trigger (a file hidden among device nodes)',
    stock: ['Create files below dev'],
    defaults: [],
    gap: {
      kind: 'cost',
      reason: 'every shell redirection to /dev/null opens below /dev with O_CREAT, so a rule on it would make the kernel ship those opens to user space; the open filter cannot exclude single paths',
    },
    act: (env) => env.host('touch', [env.own(`/dev/lanner-trigger-${ID}`)]),
    benign: (env) => env.sh('echo x > /dev/null'),
  },
  {
    id: 'rename-in-binary-directory',
    technique: 'T1036.005',
    what: 'mv of a file inside /usr/bin (replacing a system binary)',
    stock: ['Modify binary dirs'],
    defaults: ['Binary directory modified'],
    act: (env) => {
      const from = env.own(`/usr/bin/lanner-trigger-${ID}`);
      const to = env.own(`/usr/bin/lanner-trigger-${ID}-moved`);
      writeFileSync(from, '#!/bin/sh\n', { mode: 0o755 });
      return env.host('mv', [from, to]);
    },
  },
  {
    id: 'mkdir-in-binary-directory',
    technique: 'T1036.005',
    what: 'mkdir inside /usr/bin',
    stock: ['Mkdir binary dirs'],
    defaults: ['Binary directory modified'],
    act: (env) => env.host('mkdir', [env.own(`/usr/bin/lanner-trigger-dir-${ID}`)]),
    benign: (env) => env.host('mkdir', [join(env.dir('bin'), 'sub')]),
  },
  {
    id: 'base64-decode-in-container',
    technique: 'T1140',
    what: 'a shell in a container pipes a payload through base64 -d',
    stock: ['Decoding Payload in Container'],
    defaults: ['Payload decoded in container'],
    act: (env) => env.container("sh -c 'echo aWQK | /bin/base64 -d > /dev/null'"),
    benign: (env) => env.container("sh -c '/bin/base64 /etc/hostname > /dev/null'"),
  },
  {
    id: 'shred-files',
    technique: 'T1485',
    what: 'shred -u of a file',
    stock: ['Remove Bulk Data from Disk'],
    defaults: ['Data destruction tool run'],
    act: (env) => {
      const f = join(env.dir('data'), 'records.db');
      writeFileSync(f, 'x'.repeat(4096));
      return env.host('shred', ['-u', f]);
    },
    benign: (env) => {
      const f = join(env.dir('data'), 'records.db');
      writeFileSync(f, 'x'.repeat(4096));
      return env.host('rm', ['-f', f]);
    },
  },
  {
    id: 'process-memory-read',
    technique: 'T1003',
    what: "process_vm_readv of another process's memory (how credential dumpers read secrets)",
    stock: [],
    defaults: ['Memory of another process read'],
    act: (env) => env.host(env.act, ['vm-read-other']),
    benign: (env) => env.host(env.act, ['vm-read-self']),
  },
  {
    id: 'pidfd-getfd',
    technique: 'T1055',
    what: "pidfd_getfd copies another process's open file out of it",
    stock: [],
    defaults: ['File descriptor taken from another process'],
    act: (env) => env.host(env.act, ['pidfd-getfd']),
    benign: (env) => env.host(env.act, ['pidfd-open']),
  },
  {
    id: 'kexec-load',
    technique: 'T1014',
    what: 'kexec_load: stage a kernel that replaces the running one (refused here, reported all the same)',
    stock: [],
    defaults: ['Kernel replacement attempted with kexec'],
    act: (env) => env.host(env.act, ['kexec']),
  },
  {
    id: 'io-uring-setup',
    technique: 'T1562.006',
    what: "io_uring set up by a program not known to use it (its I/O would bypass syscall sensors)",
    stock: [],
    defaults: ['io_uring set up by an unexpected program'],
    act: (env) => env.host(env.act, ['io-uring']),
    benign: (env) => env.host(env.named(env.act, 'fio'), ['io-uring']),
  },
  {
    id: 'exec-memory-from-tmp',
    technique: 'T1620',
    what: 'a program run from /tmp writes anonymous memory and makes it executable (a shellcode loader)',
    stock: [],
    defaults: ['Executable memory made by a program run from a temporary directory'],
    act: (env) => env.host(env.act, ['mem-exec']),
  },
];
