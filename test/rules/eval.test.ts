import { describe, expect, it } from 'vitest';
import { syntheticEvent } from '../../src/probe/synthetic';
import { container, fdInfo, FakeState, proc } from './fake-state';
import { evalCond } from './helpers';

// A bash in a container, child of sshd, child of systemd; opening /etc/shadow read-only.
function world(): FakeState {
  const s = new FakeState();
  s.addProcess(
    proc({ tgid: 1, name: 'systemd', exe: '/sbin/init', exePath: '/usr/lib/systemd/systemd' }),
    proc({ tgid: 100, ptgid: 1, name: 'sshd', exe: '/usr/sbin/sshd', exePath: '/usr/sbin/sshd', args: ['-D'] }),
    proc({ tgid: 200, ptgid: 100, name: 'bash', exe: 'bash', exePath: '/usr/bin/bash', args: ['-c', 'cat /etc/shadow'], containerId: 'abcdef012345', env: ['HOME=/root', 'TERM=xterm'], startNs: 1_000 }),
  );
  s.addContainer(container({ id: 'abcdef012345', podName: 'web-0', podNamespace: 'shop', mounts: [{ source: '/var/run/docker.sock', dest: '/sock', mode: '', rw: true, propagation: 'rprivate' }] }));
  s.addFd(200, fdInfo({ num: 3, type: 'file', name: '/etc/shadow', nameRaw: '/etc/shadow' }));
  s.addFd(200, fdInfo({ num: 4, type: 'ipv4', name: '10.0.0.5:40000->10.96.0.1:443', clientIp: '10.0.0.5', clientPort: 40000, serverIp: '10.96.0.1', serverPort: 443, l4proto: 'tcp', connected: true }));
  return s;
}
const openShadow = { type: 'openat', tgid: 200, ret: 3, args: [-100, 0, 0o2000000, 0], str0: '/etc/shadow', tsNs: 5_000 };
const connectApi = { type: 'connect', tgid: 200, ret: 0, args: [4], sockaddr: { family: 'ipv4' as const, address: '10.96.0.1', port: 443 } };

describe('string operators', () => {
  const s = world();
  const t = (c: string): boolean => evalCond(c, openShadow, s);
  it.each([
    ['fd.name = /etc/shadow', true],
    ['fd.name == /etc/shadow', true],
    ['fd.name != /etc/shadow', false],
    ['fd.name != /etc/passwd', true],
    ['fd.name contains shad', true],
    ['fd.name contains SHAD', false],
    ['fd.name icontains SHAD', true],
    ['fd.name startswith /etc/', true],
    ['fd.name endswith shadow', true],
    ['fd.name endswith /etc', false],
    ['fd.name glob "/etc/*"', true],
    ['fd.name glob "/ETC/*"', false],
    ['fd.name iglob "/ETC/*"', true],
    ['fd.name glob "/etc/sha?ow"', true],
    ['fd.name glob "/etc/[rs]hadow"', true],
    ['fd.name glob "/etc/[!s]hadow"', false],
    ['fd.name regex "/etc/sha.*"', true],
    ['fd.name regex "etc/sha.*"', false],
    ['fd.name regex "/etc"', false],
    ['fd.name in (/etc/passwd, /etc/shadow)', true],
    ['fd.name in (/etc/passwd)', false],
    ['fd.name intersects (/etc/shadow)', true],
    ['fd.name pmatch (/etc)', true],
    ['fd.name pmatch (/et)', false],
    ['fd.name pmatch (/etc/shadow)', true],
    ['fd.name pmatch (/usr, /e*)', true],
    ['fd.name < 5', true],
    ['fd.name > 5', false],
    ['fd.name = oneof (/etc/shadow, /etc/passwd)', true],
    ['fd.name startswith oneof (/etc, /etc/sh)', false],
    ['fd.name startswith anyof (/etc, /usr)', true],
    ['fd.name startswith allof (/etc, /usr)', false],
    ['fd.name contains allof (etc, shadow)', true],
    ['fd.name != anyof ()', false],
    ['fd.directory = /etc and fd.filename = shadow', true],
    ['fd.typechar = f and fd.type = file', true],
  ])('%s → %s', (c, want) => expect(t(c)).toBe(want));
});

describe('numeric, bool, ip operators', () => {
  const s = world();
  it.each([
    ['fd.num = 3', true],
    ['fd.num != 3', false],
    ['fd.num >= 0', true],
    ['fd.num > 3', false],
    ['fd.num < 4', true],
    ['fd.num <= 2', false],
    ['fd.num in (1, 2, 3)', true],
    ['evt.rawres >= 0', true],
    ['evt.res = SUCCESS', true],
    ['evt.is_open_read = true', true],
    ['evt.is_open_write = true', false],
    ['evt.num = 7', true],
    ['evt.num = 0', false],
    ['proc.duration > 0', true],
  ])('%s → %s', (c, want) => expect(evalCond(c, openShadow, s)).toBe(want));

  it.each([
    ['fd.sip = 10.96.0.1', true],
    ['fd.sip = "10.96.0.0/12"', true],
    ['fd.snet = "10.96.0.0/12"', true],
    ['fd.net != "127.0.0.0/8"', true],
    ['fd.net = "127.0.0.0/8"', false],
    ['fd.ip = 10.0.0.5', true],
    ['fd.ip = 10.96.0.1', true],
    ['fd.ip = 10.0.0.6', false],
    ['fd.snet in ("192.168.0.0/16", "10.0.0.0/8")', true],
    ['fd.sport = 443', true],
    ['fd.sport = https', true],
    ['fd.sport in (http, https)', true],
    ['fd.port = 40000', true],
    ['fd.lport = 40000', true],
    ['fd.rport = 443', true],
    ['fd.l4proto = tcp', true],
    ['fd.sockfamily = ip', true],
    ['fd.connected = true', true],
  ])('%s → %s', (c, want) => expect(evalCond(c, connectApi, s)).toBe(want));
});

describe('DNS names of connection addresses (fd.sip.name and siblings)', () => {
  const s = world();
  // The API server's service address is watched under two names; the client address under none.
  s.hostNames.set('10.96.0.1', ['kubernetes', 'kubernetes.default.svc.cluster.local']);
  it.each([
    ['fd.sip.name = kubernetes.default.svc.cluster.local', true],
    ['fd.sip.name = kubernetes', true],
    ['fd.sip.name in (pool.example, kubernetes.default.svc.cluster.local)', true],
    ['fd.sip.name = pool.example', false],
    // != holds only when no name matches, as for the client-or-server fields.
    ['fd.sip.name != kubernetes', false],
    ['fd.sip.name != pool.example', true],
    ['fd.rip.name = kubernetes', true],
    ['fd.cip.name exists', false],
    ['fd.cip.name = kubernetes', false],
    ['fd.cip.name != kubernetes', false],
  ])('%s → %s', (c, want) => expect(evalCond(c, connectApi, s)).toBe(want));
});

describe('evt.buffer: the head of an I/O payload', () => {
  const s = world();
  const recv = { type: 'recvfrom', tgid: 200, ret: 64, args: [4], ioData: new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x3d]) };
  it.each([
    ['evt.buffer bcontains cafebabe', true],
    ['evt.buffer bstartswith cafe', true],
    ['evt.buffer bcontains deadbeef', false],
    ['evt.buflen = 64', true],
  ])('%s → %s', (c, want) => expect(evalCond(c, recv, s)).toBe(want));
  it('is not extractable on calls that carry no payload', () => {
    expect(evalCond('evt.buffer exists', openShadow, s)).toBe(false);
  });
});

describe('numeric literals', () => {
  // libsinsp reads numbers for fields with scanf: decimal integers only.
  it.each(['fd.num = 0x3', 'fd.num = 3.0', 'evt.num > 1e+3'])('%s does not compile', (c) => {
    expect(() => evalCond(c, openShadow, world())).toThrow(/not a valid number/);
  });
});

describe('unextractable fields: every comparison is false, including !=', () => {
  const s = new FakeState();
  // An exec with no state and no container: k8s fields and fd fields cannot be extracted.
  const ev = { type: 'execve', tgid: 999, comm: 'ls' };
  it.each([
    'k8s.pod.name = x',
    'k8s.pod.name != x',
    'k8s.pod.name in (x)',
    'k8s.pod.name contains x',
    'fd.num != 3',
    'fd.name glob "*"',
    'fd.sip != 1.2.3.4',
    'proc.pname != x',
    'proc.aname[5] != x',
  ])('%s is false', (c) => expect(evalCond(c, ev, s)).toBe(false));
  it('exists reports absence', () => {
    expect(evalCond('k8s.pod.name exists', ev, s)).toBe(false);
    expect(evalCond('not k8s.pod.name exists', ev, s)).toBe(true);
    expect(evalCond('not k8s.pod.name = x', ev, s)).toBe(true);
  });
});

describe('process fields and ancestors', () => {
  const s = world();
  const t = (c: string): boolean => evalCond(c, openShadow, s);
  it.each([
    ['proc.name = bash', true],
    ['proc.pname = sshd', true],
    ['proc.aname[0] = bash', true],
    ['proc.aname[1] = sshd', true],
    ['proc.aname[2] = systemd', true],
    ['proc.aname[3] exists', false],
    ['proc.aname = sshd', true],
    ['proc.aname = systemd', true],
    ['proc.aname = bash', false],
    ['proc.aname in (nginx, systemd)', true],
    ['proc.apid = 1', true],
    ['proc.cmdline = "bash -c cat /etc/shadow"', true],
    ['proc.args contains /etc/shadow', true],
    ['proc.pcmdline = "sshd -D"', true],
    ['proc.env[HOME] = /root', true],
    ['proc.env contains "TERM=xterm"', true],
    ['container.id = abcdef012345', true],
    ['container.id != host', true],
    ['k8s.ns.name = shop', true],
    ['container.mount.dest[/var/run/docker.sock] = /sock', true],
    ['container.mount.dest[/var/run/*.sock] = /sock', true],
    ['container.mount.dest[/etc] = "N/A"', true],
    ['user.name = root', true],
  ])('%s → %s', (c, want) => expect(t(c)).toBe(want));
});

describe('event parameters render like Falco', () => {
  const s = world();
  it.each([
    [{ type: 'openat', args: [-100, 0, 0o1101, 0o644], str0: '/tmp/x', ret: 5 }, 'evt.arg.flags = "O_WRONLY|O_CREAT|O_TRUNC"', true],
    [{ type: 'openat', args: [-100, 0, 0o1101, 0o644], str0: '/tmp/x', ret: 5 }, 'evt.arg.flags contains O_TRUNC', true],
    [{ type: 'openat', args: [-100, 0, 0, 0], str0: '/nope', ret: -2 }, 'evt.res = ENOENT and fd.num = -1 and fd.name = /nope', true],
    [{ type: 'openat', args: [-100, 0, 0, 0], str0: '/nope', ret: -2 }, 'evt.res startswith E and evt.rawres = -2', true],
    [{ type: 'ptrace', args: [16, 42] }, 'evt.arg.request = PTRACE_ATTACH', true],
    [{ type: 'socket', args: [17, 3, 0], ret: 3 }, 'evt.arg.domain contains AF_PACKET', true],
    [{ type: 'chmod', args: [0, 0o4755], str0: '/x' }, 'evt.arg.mode contains S_ISUID', true],
    [{ type: 'setuid', args: [0] }, 'evt.arg.uid = root', true],
    [{ type: 'bpf', args: [5] }, 'evt.arg.cmd = BPF_PROG_LOAD', true],
    [{ type: 'symlinkat', str0: '/etc/shadow', str1: '/tmp/s' }, 'evt.arg.target = /etc/shadow and evt.arg.linkpath = /tmp/s', true],
    [{ type: 'execve', exeFlags: 3 }, 'evt.arg.flags contains EXE_UPPER_LAYER', true],
    [{ type: 'openat', args: [-100, 0, 0o100, 0o755], str0: '/tmp/x', ret: 5 }, 'evt.is_open_exec = true', true],
    [{ type: 'openat', args: [-100, 0, 0, 0], str0: '/tmp/x', ret: 5 }, 'evt.arg[2] = /tmp/x', true],
    [{ type: 'openat', args: [-100, 0, 0, 0], str0: '/tmp/x', ret: 5 }, 'evt.arg[name] = /tmp/x', true],
    [{ type: 'openat', args: [-100, 0, 0, 0], str0: '/tmp/x', ret: 5 }, 'evt.arg.request exists', false],
  ])('%j: %s', (ev, c, want) => expect(evalCond(c, { tgid: 200, ...ev }, s)).toBe(want));
});

describe('transformers', () => {
  const s = world();
  it.each([
    ['tolower(proc.name) = bash', true],
    ['toupper(proc.name) = BASH', true],
    ['proc.name = tolower("BASH")', true],
    ['proc.name = toupper("bash")', false],
    ['basename(proc.exepath) = bash', true],
    ['basename(fd.name) = shadow', true],
    ['len(proc.name) = 4', true],
    ['len(proc.name) > 4', false],
    ['concat(proc.name, "-", proc.pname) = "bash-sshd"', true],
    ['join("/", (proc.name, proc.pname)) = "bash/sshd"', true],
    ['getopt(proc.args, "c:")[c] = cat', true],
    ['proc.name = val(proc.aname[0])', true],
    ['proc.name = val(proc.pname)', false],
    ['proc.name != val(proc.aname[7])', false],
    ['b64(proc.exepath) exists', false],
  ])('%s → %s', (c, want) => expect(evalCond(c, openShadow, s)).toBe(want));
  it('b64 decodes', () => {
    const st = world();
    st.addProcess(proc({ tgid: 300, name: 'aGVsbG8=' }));
    expect(evalCond('b64(proc.name) = hello', { type: 'execve', tgid: 300 }, st)).toBe(true);
  });
});

describe('load-time type checks', () => {
  const bad = ['fd.num contains 3', 'fd.num = abc', 'proc.name bcontains 41', 'evt.is_open_read = yes', 'fd.sip = notanip', 'proc.nosuch = 1', 'proc.name regex "("', 'fd.name[3] = a', 'proc.aname[x] = a'];
  it.each(bad)('%s is a compile error', (c) => expect(() => evalCond(c, openShadow, world())).toThrow());
});

describe('regex and glob run in linear time on hostile input', () => {
  const evil = 'a'.repeat(30_000) + '!';
  const s = new FakeState().addProcess(proc({ tgid: 1, name: 'x', args: [evil] }));
  it('(a+)+$ on aaaa…!', () => {
    const t0 = performance.now();
    expect(evalCond('proc.args regex "(a+)+$"', { type: 'execve', tgid: 1 }, s)).toBe(false);
    expect(evalCond('proc.args regex "(a|aa)+$"', { type: 'execve', tgid: 1 }, s)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
  it('glob with many stars', () => {
    const t0 = performance.now();
    expect(evalCond(`proc.args glob "${'*a'.repeat(20)}b"`, { type: 'execve', tgid: 1 }, s)).toBe(false);
    expect(evalCond(`proc.args iglob "${'*a'.repeat(20)}*!"`, { type: 'execve', tgid: 1 }, s)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('memoization', () => {
  it('extracts each field at most once per event', () => {
    const s = world();
    let lookups = 0;
    const orig = s.process.bind(s);
    s.process = (tgid: number) => {
      lookups++;
      return orig(tgid);
    };
    evalCond('proc.name = a or proc.name = b or proc.name = c or proc.name = bash', syntheticEvent(openShadow), s);
    expect(lookups).toBe(1);
  });
});

describe('deep nesting', () => {
  it('a 999-deep not chain compiles (closure fallback) and evaluates', () => {
    const s = world();
    expect(evalCond('not '.repeat(999) + 'proc.name = bash', openShadow, s)).toBe(false);
    expect(evalCond('not '.repeat(998) + 'proc.name = bash', openShadow, s)).toBe(true);
    expect(evalCond('('.repeat(900) + 'proc.name = bash' + ')'.repeat(900), openShadow, s)).toBe(true);
  });
});
