/** Privilege escalation and container escape: ptrace, setuid, kernel interfaces, host access (TA0004). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Trigger } from '../trigger';

export const privilegeEscalation: readonly Trigger[] = [
  {
    id: 'ptrace-attach',
    technique: 'T1055.008',
    what: 'ptrace(PTRACE_ATTACH) to another process',
    stock: ['PTRACE attached to process'],
    defaults: ['Process attached with ptrace'],
    act: (env) => env.host(env.act, ['ptrace-attach']),
  },
  {
    id: 'setns-on-host',
    technique: 'T1611',
    what: 'setns by an ordinary host program',
    stock: ['Change thread namespace'],
    defaults: ['Namespace joined by unexpected host process'],
    act: (env) => env.host(env.tact, ['setns-self']),
    benign: (env) => env.host(env.named(env.tact, 'nsenter'), ['setns-self']),
  },
  {
    id: 'setuid-root-by-unprivileged-user',
    technique: 'T1548',
    what: 'an unprivileged process calls setuid(0)',
    stock: ['Non sudo setuid'],
    defaults: ['Setuid to root attempted by non-root process'],
    act: (env) => env.asUser(env.act, ['setuid', '0']),
    benign: (env) => env.asUser(env.act, ['setuid', '54329']),
    quietRules: ['Setuid to root attempted by non-root process'],
  },
  {
    id: 'setuid-bit-set',
    technique: 'T1548.001',
    what: 'chmod u+s of a file',
    stock: ['Set Setuid or Setgid bit'],
    defaults: ['Setuid or setgid bit set on a file'],
    act: (env) => {
      const f = join(env.dir('suid'), 'sh');
      writeFileSync(f, '');
      return env.host('chmod', ['u+s', f]);
    },
    benign: (env) => {
      const f = join(env.dir('suid'), 'sh');
      writeFileSync(f, '');
      return env.host('chmod', ['755', f]);
    },
  },
  {
    id: 'userfaultfd-unprivileged',
    technique: 'T1068',
    what: 'an unprivileged host process creates a userfaultfd (a kernel race primitive)',
    stock: ['Unprivileged Delegation of Page Faults Handling to a Userspace Process'],
    defaults: ['userfaultfd by unprivileged process'],
    act: (env) => env.asUser(env.act, ['userfaultfd']),
    benign: (env) => env.host(env.act, ['userfaultfd']),
  },
  {
    id: 'sudoedit-baron-samedit',
    technique: 'T1068',
    what: 'sudoedit -s with an argument ending in a backslash (CVE-2021-3156; a program named sudoedit)',
    stock: ['Sudo Potential Privilege Escalation'],
    defaults: ['Privilege escalation exploit pattern (sudo, pkexec)'],
    act: (env) => env.host(env.named('/bin/true', 'sudoedit'), ['-s', '\\']),
    benign: (env) => env.host(env.named('/bin/true', 'sudoedit'), ['-s', '/etc/motd']),
  },
  {
    id: 'pkexec-without-arguments',
    technique: 'T1068',
    what: 'pkexec run with an empty argument list (CVE-2021-4034, PwnKit; a program named pkexec)',
    stock: ['Polkit Local Privilege Escalation Vulnerability (CVE-2021-4034)'],
    defaults: ['Privilege escalation exploit pattern (sudo, pkexec)'],
    act: (env) => env.host(env.named('/bin/true', 'pkexec')),
    benign: (env) => env.host(env.named('/bin/true', 'pkexec'), ['--version']),
  },
  {
    id: 'kernel-module-from-container',
    technique: 'T1547.006',
    what: 'init_module from a container granted CAP_SYS_MODULE (an invalid image: the kernel refuses it)',
    stock: ['Linux Kernel Module Injection Detected'],
    defaults: ['Kernel module load'],
    act: (env) => env.container('/act init-module', { extra: ['--cap-add', 'SYS_MODULE'] }),
  },
  {
    id: 'release-agent-escape',
    technique: 'T1611',
    what: 'a container with CAP_SYS_ADMIN mounts a filesystem and writes a file named release_agent',
    stock: ['Detect release_agent File Container Escapes'],
    defaults: ['Mount in container'],
    act: (env) => env.container('mkdir -p /tmp/cg && /bin/mount -t tmpfs none /tmp/cg; /act write /tmp/cg/release_agent', { extra: ['--cap-add', 'SYS_ADMIN', '--security-opt', 'seccomp=unconfined'] }),
    benign: (env) => env.container('/act write /tmp/notes'),
  },
  {
    id: 'debugfs-in-privileged-container',
    technique: 'T1611',
    what: 'debugfs (a program named so) started in a privileged container',
    stock: ['Debugfs Launched in Privileged Container'],
    defaults: ['Raw disk access or disk debugger in container'],
    act: (env) => env.container('/usr/bin/debugfs /dev/null', { extra: ['--privileged'] }),
  },
  {
    id: 'raw-disk-read-from-container',
    technique: 'T1006',
    // This machine refuses opens of its own disk even to root on the host, so the privileged
    // container makes a block device node of its own under a disk's name (loop device 7:0, which
    // opens) and reads it: the same path and open a read of the node's disk would show.
    what: 'a privileged container creates /dev/sdz (mknod b 7 0) and reads its first bytes',
    stock: ['Privileged Container Device Access'],
    defaults: ['Raw disk access or disk debugger in container'],
    act: (env) => env.container('/bin/mknod /dev/sdz b 7 0 && /act read /dev/sdz', { extra: ['--privileged'] }),
    benign: (env) => env.container('/act read /dev/zero', { extra: ['--privileged'] }),
  },
  {
    id: 'host-path-from-container',
    technique: 'T1611',
    what: 'a container reads a file below /host/etc (the host filesystem mounted in)',
    stock: ['Container Access to Host Sensitive Paths'],
    defaults: ['Host filesystem accessed from container'],
    act: (env) => env.container('/act read /host/etc/hostname'),
    benign: (env) => env.container('/act read /etc/passwd'),
  },
  {
    id: 'unshare-in-container',
    technique: 'T1611',
    what: 'unshare(CLONE_NEWUTS) in a container without CAP_SYS_ADMIN',
    stock: ['Change namespace privileges via unshare'],
    defaults: ['Namespace change in container'],
    act: (env) => env.container('/tact unshare-uts'),
  },
  {
    id: 'write-proc-self-exe-in-container',
    technique: 'T1611',
    what: 'a container process opens its own executable (/proc/self/exe) and an fd of itself for writing (the runc overwrite, CVE-2019-5736)',
    stock: ['Modify Container Entrypoint'],
    defaults: ['Process executable opened for writing through /proc'],
    act: (env) => env.container('echo x > /proc/self/fd/1; /act write /proc/self/exe'),
    benign: (env) => env.container('/act read /proc/self/exe'),
    // runc itself opens /proc/self/fd/N for writing while it sets a container up, which is why
    // Falco ships the stock rule disabled: the twin is held to the default rule.
    quietRules: ['Process executable opened for writing through /proc'],
  },
  {
    id: 'mount-in-privileged-container',
    technique: 'T1611',
    what: 'mount -t tmpfs inside a privileged container',
    stock: ['Mount Launched in Privileged Container'],
    defaults: ['Mount in container'],
    act: (env) => env.container('/bin/mount -t tmpfs none /mnt', { extra: ['--privileged'] }),
    benign: (env) => env.container('/bin/mount > /dev/null', { extra: ['--privileged'] }),
  },
];
