/** Credential access: sensitive files, keys and tokens, cloud credentials (TA0006). */
import { join } from 'node:path';
import { API_SERVER_IP, API_SERVER_NAME, METADATA_IP, PUBLIC_IP } from '../env';
import type { Trigger } from '../trigger';

const ID = process.pid;

export const credentialAccess: readonly Trigger[] = [
  {
    id: 'read-file-through-path-traversal',
    technique: 'T1555',
    what: 'a program (not a shell) reads /etc/passwd through ../ components, as a path traversal bug would',
    stock: ['Directory traversal monitored file read'],
    defaults: ['Sensitive file read through path traversal'],
    act: (env) => env.host('cat', ['/etc/../etc/../etc/passwd']),
    benign: (env) => env.host('cat', ['/etc/passwd']),
  },
  {
    id: 'read-shadow-by-long-running-server',
    technique: 'T1555',
    what: 'a web server running for 6 s opens /etc/shadow',
    stock: ['Read sensitive file trusted after startup', 'Read sensitive file untrusted'],
    defaults: ['Password hashes read by untrusted program'],
    act: (env) => env.host(env.named(env.tact, 'nginx'), ['read-after', '6', '/etc/shadow']),
    // Right at start-up a server may load its credentials.
    benign: (env) => env.host(env.named(env.tact, 'nginx'), ['read-after', '0', '/etc/shadow']),
    quietRules: ['Read sensitive file trusted after startup'],
  },
  {
    id: 'read-shadow',
    technique: 'T1003.008',
    what: 'cat /etc/shadow',
    stock: ['Read sensitive file untrusted'],
    defaults: ['Password hashes read by untrusted program'],
    act: (env) => env.host('cat', ['/etc/shadow']),
    benign: (env) => env.host('cat', ['/etc/hostname']),
  },
  {
    id: 'grep-for-private-keys',
    technique: 'T1552.004',
    what: 'grep -r for "BEGIN RSA PRIVATE" through a directory',
    stock: ['Search Private Keys or Passwords'],
    defaults: ['Search for private keys or cloud credentials'],
    act: (env) => env.host('grep', ['-rl', 'BEGIN RSA PRIVATE', env.dir('keys')]),
    benign: (env) => env.host('grep', ['-rl', 'BEGIN CERTIFICATE', env.dir('certs')]),
  },
  {
    id: 'find-ssh-keys',
    technique: 'T1552.004',
    what: 'find / -name id_rsa (bounded to a scratch directory)',
    stock: ['Search Private Keys or Passwords'],
    defaults: ['Search for private keys or cloud credentials'],
    act: (env) => env.host('find', [env.dir('home'), '-name', 'id_rsa']),
    benign: (env) => env.host('find', [env.dir('home'), '-name', '*.conf']),
  },
  {
    id: 'grep-for-aws-credentials',
    technique: 'T1552.001',
    what: 'grep -ri aws_secret_access_key through a directory',
    stock: ['Find AWS Credentials'],
    defaults: ['Search for private keys or cloud credentials'],
    act: (env) => env.host('grep', ['-ri', 'aws_secret_access_key', env.dir('aws')]),
    benign: (env) => env.host('grep', ['-ri', 'region', env.dir('aws')]),
  },
  {
    id: 'symlink-to-shadow',
    technique: 'T1555',
    what: 'ln -s /etc/shadow into a scratch directory (to read it through a web root, say)',
    stock: ['Create Symlink Over Sensitive Files'],
    defaults: ['Link to a credential file created'],
    act: (env) => env.host('ln', ['-s', '/etc/shadow', join(env.dir('links'), 'shadow')]),
    benign: (env) => env.host('ln', ['-s', '/etc/hostname', join(env.dir('links'), 'hostname')]),
  },
  {
    id: 'hardlink-to-shadow',
    technique: 'T1555',
    what: 'ln /etc/shadow into /var/tmp (a hard link on the same filesystem keeps the hashes readable under another name)',
    stock: ['Create Hardlink Over Sensitive Files'],
    defaults: ['Link to a credential file created'],
    act: (env) => env.host('ln', ['/etc/shadow', env.own(`/var/tmp/lanner-trigger-${ID}-shadow`)]),
    benign: (env) => env.host('ln', ['/etc/hostname', env.own(`/var/tmp/lanner-trigger-${ID}-hostname`)]),
  },
  {
    id: 'read-root-ssh-private-key',
    technique: 'T1552.004',
    what: "cat a private key in root's ~/.ssh",
    stock: ['Read ssh information'],
    defaults: ['SSH private key read'],
    act: (env) => env.host('cat', [env.file(`/root/.ssh/id_lanner_trigger_${ID}`, 'not a key\n', 0o600)]),
    // The ssh tools themselves read keys.
    benign: (env) => env.host(env.named('/bin/cat', 'ssh-keygen'), [env.file(`/root/.ssh/id_lanner_trigger_${ID}_b`, 'not a key\n', 0o600)]),
  },
  {
    id: 'read-process-environment-in-container',
    technique: 'T1552.007',
    what: "in a container, cat /proc/1/environ (secrets passed as environment variables)",
    stock: ['Read environment variable from /proc files'],
    defaults: ['Process environment read by inspection tool'],
    act: (env) => env.container('cat /proc/1/environ > /dev/null'),
    benign: (env) => env.container('cat /proc/self/environ > /dev/null'),
    quietRules: ['Process environment read by inspection tool'],
  },
  {
    id: 'cloud-metadata-from-container',
    technique: 'T1552.005',
    what: 'a container connects to the cloud metadata address 169.254.169.254:80',
    stock: ['Contact EC2 Instance Metadata Service From Container', 'Contact cloud metadata service from container'],
    defaults: ['Cloud metadata service contacted from container'],
    act: async (env) => {
      await env.serveInNetns(METADATA_IP, 80);
      return env.container(`/tact tcp-connect ${METADATA_IP} 80`, { netns: true });
    },
    benign: async (env) => {
      await env.serveInNetns(PUBLIC_IP, 80);
      return env.container(`/tact tcp-connect ${PUBLIC_IP} 80`, { netns: true });
    },
  },
  {
    id: 'api-server-from-container',
    technique: 'T1613',
    what: `curl in a container connects to the API server (${API_SERVER_NAME}, ${API_SERVER_IP}:443 in the agent's hosts file)`,
    stock: ['Contact K8S API Server From Container'],
    defaults: ['Kubernetes API contacted by a shell or network tool in a container'],
    act: async (env) => {
      await env.serveInNetns(API_SERVER_IP, 443);
      return env.container(`/usr/bin/curl tcp-connect ${API_SERVER_IP} 443`, { netns: true });
    },
    // An application's own client (a program named node) talking to the API, as controllers do.
    benign: async (env) => {
      await env.serveInNetns(API_SERVER_IP, 443);
      return env.container(`/usr/bin/node tcp-connect ${API_SERVER_IP} 443`, { netns: true });
    },
    quietRules: ['Kubernetes API contacted by a shell or network tool in a container'],
  },
];
