/**
 * Network: connections that leave (or reach) the node. They run in the suite's network namespace,
 * whose loopback carries a documentation address (203.0.113.7) with listeners on it, so the
 * "outbound" connection completes without leaving the machine.
 */
import { MINER_POOL_IP, MINER_POOL_NAME, PUBLIC_IP } from '../env';
import type { Trigger } from '../trigger';

/**
 * Clients connect as programs do, without binding first: the stock `outbound`/`inbound_outbound`
 * macros refuse a connection whose client address is 0.0.0.0 (`fd.ip != "0.0.0.0"`), so these
 * triggers also prove that the probe reports the local end the kernel picked at connect.
 */
const SSH_OPTIONS = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'];

const BASELINE = 'which addresses, ports and programs may talk is a site baseline (an allow-list to fill in), not an intrusion technique';

export const network: readonly Trigger[] = [
  {
    id: 'ssh-to-web-port',
    technique: 'T1572',
    what: `ssh to ${PUBLIC_IP}:443 (an SSH tunnel dressed as HTTPS)`,
    stock: ['Disallowed SSH Connection Non Standard Port'],
    defaults: ['SSH client connected to a web or backdoor port'],
    act: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 443);
      return env.inNetns('ssh', ['-p', '443', ...SSH_OPTIONS, `lanner@${PUBLIC_IP}`, 'true']);
    },
    benign: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 22);
      return env.inNetns('ssh', ['-p', '22', ...SSH_OPTIONS, `lanner@${PUBLIC_IP}`, 'true']);
    },
  },
  {
    id: 'system-program-network-activity',
    technique: 'T1036.005',
    what: `a program named like a coreutils tool (base64) connects to ${PUBLIC_IP}:8084`,
    stock: ['System procs network activity'],
    defaults: ['Network connection by a file utility'],
    act: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8084);
      return env.inNetns(env.named(env.tact, 'base64'), ['tcp-connect', PUBLIC_IP, '8084']);
    },
    // A download tool connecting is what it is for.
    benign: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8085);
      return env.inNetns(env.named(env.tact, 'curl'), ['tcp-connect', PUBLIC_IP, '8085']);
    },
    quietRules: ['Network connection by a file utility'],
  },
  {
    id: 'shell-opens-tcp-connection',
    technique: 'T1059.004',
    what: `bash opens /dev/tcp/${PUBLIC_IP}/8080 on fd 3 (a shell talking to the network itself)`,
    stock: ['System procs network activity'],
    defaults: ['Shell opened a network connection'],
    act: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8080);
      return env.inNetns('bash', ['-c', `exec 3<>/dev/tcp/${PUBLIC_IP}/8080; echo hi >&3; sleep 1`]);
    },
    benign: async (env) => {
      await env.serveInNetns('127.0.0.1', 8080);
      return env.inNetns('bash', ['-c', 'exec 3<>/dev/tcp/127.0.0.1/8080; echo hi >&3']);
    },
  },
  {
    id: 'unexpected-udp',
    technique: 'T1095',
    what: `a UDP datagram to ${PUBLIC_IP}:9999`,
    stock: ['Unexpected UDP Traffic'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: BASELINE },
    act: (env) => env.inNetns(env.tact, ['udp-send', PUBLIC_IP, '9999']),
  },
  {
    id: 'network-scanner-on-host',
    technique: 'T1046',
    what: 'nmap (a program named so) on the host',
    stock: ['Launch Suspicious Network Tool on Host'],
    defaults: ['Network tool executed'],
    act: (env) => env.host(env.named('/bin/true', 'nmap'), ['-sS', '203.0.113.0/24']),
  },
  {
    id: 'inbound-connection',
    technique: 'T1133',
    what: `a TCP connection accepted on ${PUBLIC_IP}:8081 from a non-local address`,
    stock: ['Unexpected inbound connection source'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: BASELINE },
    act: async (env) => {
      const server = await env.serveInNetns(PUBLIC_IP, 8081);
      await env.inNetns(env.tact, ['tcp-connect', PUBLIC_IP, '8081']);
      return { pid: server.pid! };
    },
  },
  {
    id: 'interpreter-network-activity',
    technique: 'T1071',
    what: `a program named python3 listens on ${PUBLIC_IP}:8082 and another connects to it`,
    stock: ['Interpreted procs inbound network activity', 'Interpreted procs outbound network activity'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: BASELINE },
    act: async (env) => {
      const python = env.named(env.tact, 'python3');
      const server = await env.serveInNetns(PUBLIC_IP, 8082, 1, python);
      const client = await env.inNetns(python, ['tcp-connect', PUBLIC_IP, '8082']);
      return { pids: [server.pid!, client.pid] };
    },
  },
  {
    id: 'nodeport-connection-from-container',
    technique: 'T1133',
    what: `a container connects to ${PUBLIC_IP}:30080 (a NodePort)`,
    stock: ['Unexpected K8s NodePort Connection'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: BASELINE },
    act: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 30080);
      return env.container(`/tact tcp-connect ${PUBLIC_IP} 30080`, { netns: true });
    },
  },
  {
    id: 'miner-pool-connection',
    technique: 'T1496',
    what: `a connection to ${MINER_POOL_NAME}:3333 (${MINER_POOL_IP} in the agent's hosts file), a known mining pool`,
    stock: ['Detect outbound connections to common miner pool ports'],
    defaults: [],
    gap: {
      kind: 'noise',
      reason:
        "matching pool domains makes every node resolve them all the time, which DNS firewalls flag as mining (Falco ships the rule off for that reason); the defaults catch miners by program name and Stratum URL (Crypto miner executed)",
    },
    act: async (env) => {
      await env.serveInNetns(MINER_POOL_IP, 3333);
      return env.inNetns(env.tact, ['tcp-connect', MINER_POOL_IP, '3333']);
    },
    // The same port on an address no pool name resolves to.
    benign: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 3333);
      return env.inNetns(env.tact, ['tcp-connect', PUBLIC_IP, '3333']);
    },
  },
  {
    id: 'java-class-download',
    technique: 'T1190',
    what: `a program named java receives a class file (CA FE BA BE first) from ${PUBLIC_IP}:8445 with recvfrom, as a Log4Shell-exploited JVM does`,
    stock: ['Java Process Class File Download'],
    defaults: [],
    gap: {
      kind: 'out-of-scope',
      reason:
        "a signature of one exploit's payload, seen only on JVMs before 17 (newer ones receive with read(), which no syscall rule can watch cheaply); the defaults watch what an exploited server does next",
    },
    act: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8445, 1, env.tact, 'cafebabe0000003d');
      return env.inNetns(env.named(env.tact, 'java'), ['tcp-recv', PUBLIC_IP, '8445']);
    },
    // The same JVM receiving an ordinary HTTP response.
    benign: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8446, 1, env.tact, Buffer.from('HTTP/1.1 200 OK\r\n').toString('hex'));
      return env.inNetns(env.named(env.tact, 'java'), ['tcp-recv', PUBLIC_IP, '8446']);
    },
  },
  {
    id: 'pod-connects-outside-subnet',
    technique: 'T1046',
    what: `a pod of namespace shop (listed as local-subnet only) connects to ${PUBLIC_IP}:8443`,
    stock: ['Network Connection outside Local Subnet'],
    defaults: [],
    gap: { kind: 'out-of-scope', reason: BASELINE },
    // The pod labels are the ones the kubelet's Docker shim (cri-dockerd) puts on each container,
    // which Lanner reads from the Docker API (podman's here) as it reads CRI's on containerd.
    act: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8443);
      return env.container(`/tact tcp-connect ${PUBLIC_IP} 8443`, { netns: true, extra: podLabels('shop') });
    },
    // The same connection from a namespace the list does not name.
    benign: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 8444);
      return env.container(`/tact tcp-connect ${PUBLIC_IP} 8444`, { netns: true, extra: podLabels('kube-system') });
    },
  },
];

/** podman options giving a container the pod labels of a Kubernetes pod in `namespace`. */
function podLabels(namespace: string): string[] {
  return ['--label', `io.kubernetes.pod.namespace=${namespace}`, '--label', 'io.kubernetes.pod.name=web-0', '--label', 'io.kubernetes.pod.uid=5f0c6a2e-0000-4000-8000-000000000001'];
}
