/**
 * The ia32 half of the interesting-syscall table, as the addon compiles it. This machine's kernel
 * runs no i386 code (IA-32 emulation is off: `int 0x80` faults), so these calls cannot be made
 * here; what can be checked is that the table maps the ia32 ids (arch/x86/entry/syscalls/
 * syscall_32.tbl) to the right event types, socketcall and the 16-bit-id calls included.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_TYPES, EVENT_FAMILIES } from '../../src/probe/event-types';

/** Event type name -> the ia32 syscall ids the compiled table lists for it. */
let table: Map<string, number[]>;

beforeAll(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'lanner-ia32-table-')), 'ia32_table');
  execFileSync('c++', ['-std=c++17', '-O0', '-o', out, resolve(__dirname, 'fixtures/ia32_table.cc')]);
  table = new Map();
  for (const line of execFileSync(out, { encoding: 'utf8' }).trim().split('\n')) {
    const [type, nr] = line.split(' ').map(Number) as [number, number];
    const name = EVENT_TYPES[type]!.name;
    table.set(name, [...(table.get(name) ?? []), nr].sort((a, b) => a - b));
  }
});

const SOCKETCALL = 102;

describe('ia32 syscall table', () => {
  it('maps the 16-bit-id and 32-bit-id variants of the credential and chown calls to one type', () => {
    expect(table.get('setuid')).toEqual([23, 213]);
    expect(table.get('setgid')).toEqual([46, 214]);
    expect(table.get('setresuid')).toEqual([164, 208]);
    expect(table.get('setresgid')).toEqual([170, 210]);
    expect(table.get('chown')).toEqual([182, 212]);
    expect(table.get('lchown')).toEqual([16, 198]);
    expect(table.get('fchown')).toEqual([95, 207]);
    expect(table.get('fchownat')).toEqual([298]);
  });

  it('lists socketcall under every socket call the probe unpacks it into', () => {
    const socketTypes = ['socket', 'connect', 'accept', 'accept4', 'bind', 'listen', 'sendto', 'sendmsg', 'recvfrom', 'recvmsg'];
    for (const name of socketTypes) expect(table.get(name), name).toContain(SOCKETCALL);
    const others = [...table].filter(([name, nrs]) => !socketTypes.includes(name) && nrs.includes(SOCKETCALL));
    expect(others).toEqual([]);
    // accept has no ia32 syscall of its own: socketcall is its only way in.
    expect(table.get('accept')).toEqual([SOCKETCALL]);
    expect(table.get('connect')).toEqual([SOCKETCALL, 362]);
  });

  it('maps the memory, process, kernel and io_uring calls under their ia32 ids', () => {
    expect(table.get('mprotect')).toEqual([125]);
    expect(table.get('mmap')).toEqual([192]); // mmap2: old_mmap passes a struct, not decoded
    expect(table.get('process_vm_readv')).toEqual([347]);
    expect(table.get('kexec_load')).toEqual([283]);
    expect(table.get('kexec_file_load')).toBeUndefined(); // x86-64 only
    expect(table.get('keyctl')).toEqual([288]);
    expect(table.get('open_by_handle_at')).toEqual([342]);
    expect([table.get('pidfd_open'), table.get('pidfd_getfd')]).toEqual([[434], [438]]);
    expect([table.get('move_mount'), table.get('fsopen'), table.get('fsmount')]).toEqual([[429], [430], [432]]);
    expect([table.get('io_uring_setup'), table.get('io_uring_enter'), table.get('io_uring_register')]).toEqual([[425], [426], [427]]);
    for (const name of EVENT_FAMILIES.chown) expect(table.has(name), name).toBe(true);
  });
});
