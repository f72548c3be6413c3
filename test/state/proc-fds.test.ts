import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createStateEngine } from '../../src/state';
import { formatIpv6, parseInetTable, parseUnixTable, type SocketTable } from '../../src/state/proc-fds';
import { testStateConfig } from './helpers';

describe('socket table parsing', () => {
  it('decodes /proc/net/tcp and tcp6 lines (host-order words)', () => {
    const t: SocketTable = new Map();
    parseInetTable(
      [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0',
        '   1: 0F02000A:C350 0101A8C0:0016 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1',
      ].join('\n'),
      'tcp',
      false,
      t,
    );
    expect(t.get(1111)).toMatchObject({ type: 'ipv4', localIp: '127.0.0.1', localPort: 8080, listening: true });
    expect(t.get(2222)).toMatchObject({ localIp: '10.0.2.15', localPort: 50000, remoteIp: '192.168.1.1', remotePort: 22, listening: false });
    parseInetTable(
      [
        'header',
        '   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1',
        '   1: 0000000000000000FFFF00000100007F:0050 B80D0120000000000000000001000000:01BB 01 00000000:00000000 00:00000000 00000000     0        0 4444 1',
      ].join('\n'),
      'tcp',
      true,
      t,
    );
    expect(t.get(3333)).toMatchObject({ type: 'ipv6', localIp: '::1', localPort: 8080, listening: true });
    expect(t.get(4444)).toMatchObject({ localIp: '::ffff:127.0.0.1', localPort: 80, remoteIp: '2001:db8::1', remotePort: 443 });
  });

  it('decodes /proc/net/unix lines with and without a path', () => {
    const t: SocketTable = new Map();
    parseUnixTable(
      'Num       RefCount Protocol Flags    Type St Inode Path\n0000000000000000: 00000002 00000000 00010000 0001 01 5555 /run/podman/podman.sock\n0000000000000000: 00000003 00000000 00000000 0001 03 6666\n',
      t,
    );
    expect(t.get(5555)).toMatchObject({ type: 'unix', path: '/run/podman/podman.sock', listening: true });
    expect(t.get(6666)).toMatchObject({ type: 'unix', path: '', listening: false });
  });

  it('formats IPv6 per RFC 5952', () => {
    expect(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0])).toBe('::');
    expect(formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])).toBe('2001:db8:0:1:1:1:1:1');
    expect(formatIpv6([0xfe80, 0, 0, 0, 0, 0, 0, 0x1])).toBe('fe80::1');
  });
});

const cleanups: (() => void)[] = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

function fdNum(s: Socket | Server): number {
  // Node exposes the OS fd of TCP handles on Unix.
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

describe('fds seeded from /proc', () => {
  it('sees files (with flags) and TCP sockets of live processes, oriented client/server', async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'lanner-fds-')));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const holder: ChildProcess = spawn('sh', ['-c', `exec 5</etc/hostname 6>${dir}/out.log 7<${dir}; exec sleep 300`], { stdio: 'ignore' });
    cleanups.push(() => holder.kill('SIGKILL'));
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => server.close());
    const accepted = new Promise<Socket>((r) => server.once('connection', r));
    const port = (server.address() as { port: number }).port;
    const client = connect(port, '127.0.0.1');
    await new Promise<void>((r) => client.once('connect', () => r()));
    const serverSide = await accepted;
    cleanups.push(() => {
      client.destroy();
      serverSide.destroy();
    });
    // Wait for the holder's exec so its fds are in place.
    for (let i = 0; i < 100 && !readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 20));

    const st = createStateEngine({ config: testStateConfig(), seed: true });
    try {
      expect(st.fd(holder.pid!, 5)).toMatchObject({ type: 'file', name: '/etc/hostname' });
      expect(st.fd(holder.pid!, 5)!.openFlags & 3).toBe(0);
      expect(st.fd(holder.pid!, 6)).toMatchObject({ type: 'file', name: `${dir}/out.log` });
      expect(st.fd(holder.pid!, 6)!.openFlags & 3).toBe(1);
      expect(st.fd(holder.pid!, 7)).toMatchObject({ type: 'directory', name: dir });
      const me = process.pid;
      expect(st.fd(me, fdNum(server))).toMatchObject({ type: 'ipv4', l4proto: 'tcp', name: `127.0.0.1:${port}` });
      const clientPort = client.localPort!;
      expect(st.fd(me, fdNum(client))).toMatchObject({ name: `127.0.0.1:${clientPort}->127.0.0.1:${port}`, isServer: false, connected: true });
      expect(st.fd(me, fdNum(serverSide))).toMatchObject({ name: `127.0.0.1:${clientPort}->127.0.0.1:${port}`, isServer: true, clientPort, serverPort: port });
      expect(st.stats().fds).toBeGreaterThan(10);
    } finally {
      await st.close();
    }
  });
});
