/** Execution: shells under servers, fileless and /dev/shm execution, miners, web shells (TA0002). */
import { copyFileSync, chmodSync } from 'node:fs';
import type { Trigger } from '../trigger';

const ID = process.pid;

export const execution: readonly Trigger[] = [
  {
    id: 'shell-under-web-server',
    technique: 'T1059.004',
    what: 'a program named nginx starts /bin/sh -c (remote code execution in a server)',
    stock: ['Run shell untrusted'],
    defaults: ['Shell or tool spawned by a network server'],
    act: (env) => env.host(env.named(env.act, 'nginx'), ['spawn', '/bin/sh', '-c', 'true']),
    benign: (env) => env.host(env.named(env.act, 'nginx'), ['spawn', '/bin/true']),
  },
  {
    id: 'system-account-in-ssh-session',
    technique: 'T1078.003',
    what: 'inside an sshd session, a command runs as nobody',
    stock: ['System user interactive'],
    defaults: ['System account used interactively'],
    act: (env) => env.host(env.named(env.act, 'sshd'), ['spawn', '/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '/bin/true']),
    benign: (env) => env.host(env.named(env.act, 'sshd'), ['spawn', '/bin/true']),
  },
  {
    id: 'terminal-shell-in-container',
    technique: 'T1059',
    what: 'podman run -t with a shell (a terminal attached to a container shell)',
    stock: ['Terminal shell in container'],
    defaults: ['Interactive shell in container'],
    act: (env) => env.container('true', { tty: true }),
    benign: (env) => env.container('true'),
  },
  {
    id: 'execute-from-dev-shm',
    technique: 'T1036.005',
    what: 'a binary copied to /dev/shm and run from there',
    stock: ['Execution from /dev/shm'],
    defaults: ['Program executed from shared memory'],
    act: (env) => {
      const p = env.own(`/dev/shm/lanner-trigger-${ID}`);
      copyFileSync('/bin/true', p);
      chmodSync(p, 0o755);
      return env.host(p);
    },
    benign: (env) => env.host(env.named('/bin/true', `lanner-trigger-${ID}`)),
  },
  {
    id: 'fileless-memfd-execution',
    technique: 'T1620',
    what: 'a binary copied into a memfd and executed with execveat',
    stock: ['Fileless execution via memfd_create'],
    defaults: ['Fileless execution from memfd'],
    act: (env) => env.host(env.act, ['memfd-exec', '/bin/true', 'true']),
    benign: (env) => env.host('/bin/true'),
  },
  {
    id: 'database-spawns-shell',
    technique: 'T1505.003',
    what: 'a program named mysqld starts a shell (SQL injection to command execution)',
    stock: ['DB program spawned process'],
    defaults: ['Shell or tool spawned by a network server'],
    act: (env) => env.host(env.named(env.act, 'mysqld'), ['spawn', '/bin/sh', '-c', 'true']),
    // A database server restarting its own helper.
    benign: (env) => env.host(env.named(env.act, 'mysqld'), ['spawn', env.named('/bin/true', 'mysqld')]),
  },
  {
    id: 'web-server-spawns-shell',
    technique: 'T1505.003',
    what: 'a program named apache2 starts /bin/sh -c (a web shell)',
    stock: ['Web Server Spawned Shell'],
    defaults: ['Shell or tool spawned by a network server'],
    act: (env) => env.host(env.named(env.act, 'apache2'), ['spawn', '/bin/sh', '-c', 'true']),
    benign: (env) => env.host(env.named(env.act, 'apache2'), ['spawn', '/bin/true']),
  },
  {
    id: 'web-server-spawns-recon-tool',
    technique: 'T1505.003',
    what: 'a program named nginx runs id (a web shell looking around)',
    stock: ['Web Server Spawned Suspicious Child Process'],
    defaults: ['Shell or tool spawned by a network server'],
    act: (env) => env.host(env.named(env.act, 'nginx'), ['spawn', '/usr/bin/id']),
    benign: (env) => env.host(env.named(env.act, 'nginx'), ['spawn', '/bin/true']),
  },
  {
    id: 'web-server-reverse-shell',
    technique: 'T1059.004',
    what: "a program named nginx runs sh -c with a /dev/tcp/ redirection in its command line",
    stock: ['Reverse Shell from Web Server'],
    defaults: ['Shell or tool spawned by a network server'],
    act: (env) => env.host(env.named(env.act, 'nginx'), ['spawn', '/bin/sh', '-c', 'echo /dev/tcp/203.0.113.7/4444 > /dev/null']),
  },
  {
    id: 'stratum-miner-command-line',
    technique: 'T1496',
    what: 'a program started with a stratum+tcp:// pool URL',
    stock: ['Detect crypto miners using the Stratum protocol'],
    defaults: ['Crypto miner executed'],
    act: (env) => env.host(env.named('/bin/true', 'worker'), ['-o', 'stratum+tcp://pool.example:3333', '-u', 'wallet']),
    benign: (env) => env.host(env.named('/bin/true', 'worker'), ['-o', 'tcp://db.example:5432']),
  },
  {
    id: 'known-miner-binary',
    technique: 'T1496',
    what: 'a program named xmrig runs',
    stock: ['Known Cryptominer Process Executed'],
    defaults: ['Crypto miner executed'],
    act: (env) => env.host(env.named('/bin/true', 'xmrig'), ['--version']),
  },
  {
    id: 'socat-exec-on-host',
    technique: 'T1059.004',
    what: 'socat TCP:…:4444 EXEC:/bin/sh on the host (a program named socat; nothing connects)',
    stock: ['Netcat/Socat Remote Code Execution on Host', 'Launch Suspicious Network Tool on Host'],
    defaults: ['Network tool executed'],
    act: (env) => env.host(env.named('/bin/true', 'socat'), ['TCP:203.0.113.7:4444', 'EXEC:/bin/sh']),
    benign: (env) => env.host(env.named('/bin/true', 'socat'), ['-V']),
    quietRules: ['Netcat/Socat Remote Code Execution on Host'],
  },
  {
    id: 'recon-on-terminal',
    technique: 'T1033',
    what: 'id typed at a terminal (script(1) provides the pty)',
    stock: ['Basic Interactive Reconnaissance'],
    defaults: [],
    gap: { kind: 'noise', reason: 'id, whoami and uname at a terminal are what administrators type all day on a node; in containers the interactive shell itself alerts' },
    // proc.is_vpgid_leader needs the session and process group a process got from setsid/setpgid.
    stockWaitingFor: ['setsid', 'setpgid'],
    act: (env) => env.withTty('id'),
    // The same command run by a script at the terminal: the shell forks it into its own group.
    benign: (env) => env.withTty('id; true'),
    quietRules: ['Basic Interactive Reconnaissance'],
  },
  {
    id: 'glibc-tunables-in-environment',
    technique: 'T1068',
    what: 'su (a program named so) started with GLIBC_TUNABLES in its environment (CVE-2023-4911, Looney Tunables)',
    stock: ['Potential Local Privilege Escalation via Environment Variables Misuse'],
    defaults: ['GLIBC_TUNABLES passed to a setuid program'],
    act: (env) => env.host(env.named('/bin/true', 'su'), [], { env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.mxfast=0' } }),
    // An ordinary program tuned through the same variable.
    benign: (env) => env.host('/bin/true', [], { env: { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.mxfast=0' } }),
    quietRules: ['GLIBC_TUNABLES passed to a setuid program'],
  },
  {
    id: 'http-proxy-in-environment',
    technique: 'T1090',
    what: 'curl started with HTTP_PROXY set',
    stock: ['Program run with disallowed http proxy env'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: 'proxy settings are site configuration, not an intrusion step; which proxies are allowed is a site policy' },
    act: (env) => env.host('curl', ['--version'], { env: { ...process.env, HTTP_PROXY: 'http://203.0.113.7:3128' } }),
    benign: (env) => env.host('curl', ['--version'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }),
  },
];

