import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/rules/ruleset';
import { changeFilterFor, openFilterFor, type OpenFilter, type OpenPathPrefix } from '../../src/rules/open-filter';
import { nativePathFilter } from '../../src/probe/path-filter-spec';
import { NATIVE_PATH_MATCH } from '../../src/probe/native';
import { FILTER_COMM_MAX, PATH_PREFIX_MAX, PATH_SUFFIX_MAX } from '../../src/probe/layout';
import { STOCK_SYSCALL_FILES } from '../support/stock-rules';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-of-'));
let n = 0;
function prefixesOf(...conditions: string[]): string[] | undefined {
  return modesOf(...conditions)?.map((p) => p.prefix);
}

function modesOf(...conditions: string[]): OpenPathPrefix[] | undefined {
  return filterOf(...conditions)?.prefixes.slice();
}

function filterOf(...conditions: string[]): OpenFilter | undefined {
  const file = join(tmp, `r${n++}.yaml`);
  writeFileSync(
    file,
    conditions.map((c, i) => [`- rule: r${i}`, '  desc: d', `  condition: ${c}`, '  output: o', '  priority: NOTICE', ''].join('\n')).join('\n'),
  );
  const rs = loadRules([file]);
  expect(rs.errors).toEqual([]);
  return openFilterFor(rs).filter ?? undefined;
}

describe('openFilterFor', () => {
  it('collects the prefixes open rules test', () => {
    expect(modesOf('evt.type in (open, openat) and fd.name startswith /etc/kubernetes/pki', 'evt.type = openat and fd.name in (/etc/shadow, /etc/gshadow)')).toEqual([
      { prefix: '/etc/kubernetes/pki', writeOnly: false },
      { prefix: '/etc/gshadow', writeOnly: false, exact: true },
      { prefix: '/etc/shadow', writeOnly: false, exact: true },
    ]);
  });

  it('an and is bounded by either side, an or needs both', () => {
    expect(prefixesOf('evt.type = openat and proc.name = cat and fd.name startswith /var/log')).toEqual(['/var/log']);
    expect(prefixesOf('evt.type = openat and (fd.name startswith /a or fd.name pmatch (/b/c, /d/*/e))')).toEqual(['/a', '/b/c', '/d/']);
    // Either a path or a process name: both atoms ship.
    expect(filterOf('evt.type = openat and (fd.name startswith /a or proc.name = x)')).toEqual({ prefixes: [{ prefix: '/a', writeOnly: false }], suffixes: [], needles: [], comms: ['x'] });
    expect(filterOf('evt.type = openat and (fd.name contains x or proc.name = averyveryverylongname)')).toBeUndefined();
  });

  it('a rule that can match any path turns the filter off', () => {
    expect(prefixesOf('evt.type = openat and fd.name startswith /etc', 'evt.type = openat and fd.name contains shadow')).toBeUndefined();
    expect(prefixesOf('evt.type = openat and not fd.name startswith /tmp')).toBeUndefined();
    expect(prefixesOf('evt.type = openat and tolower(fd.name) startswith /etc')).toBeUndefined();
  });

  it('branches for other event types do not count for opens; rules without opens add nothing', () => {
    expect(prefixesOf('(evt.type = openat and fd.name startswith /etc/ssh) or (evt.type = execve and proc.name = sshd)')).toEqual(['/etc/ssh']);
    expect(prefixesOf('evt.type = execve and proc.name = nc')).toEqual([]);
  });

  it('directories become prefixes with a slash; covered prefixes are dropped', () => {
    expect(prefixesOf('evt.type = openat and fd.directory in (/etc/sudoers.d, /etc)', 'evt.type = openat and fd.name startswith /etc/sudoers.d/x')).toEqual(['/etc/']);
  });

  it('write tests narrow a prefix to write opens; a read rule on the same prefix widens it again', () => {
    expect(modesOf('evt.type = openat and evt.is_open_write = true and fd.name startswith /etc')).toEqual([{ prefix: '/etc', writeOnly: true }]);
    expect(modesOf('evt.type = openat and evt.arg.flags contains O_TRUNC and fd.name startswith /var/log')).toEqual([{ prefix: '/var/log', writeOnly: true }]);
    expect(
      modesOf('evt.type = openat and evt.is_open_write = true and fd.name startswith /etc', 'evt.type = openat and fd.name = /etc/shadow'),
    ).toEqual([
      { prefix: '/etc', writeOnly: true },
      { prefix: '/etc/shadow', writeOnly: false, exact: true },
    ]);
    expect(modesOf('evt.type = openat and fd.name startswith /etc', 'evt.type = openat and evt.is_open_write = true and fd.name startswith /etc/x')).toEqual([
      { prefix: '/etc', writeOnly: false },
    ]);
    // Writes anywhere: still a filter (reads are dropped), not "any open".
    expect(modesOf('evt.type = openat and evt.is_open_write = true')).toEqual([{ prefix: '/', writeOnly: true }]);
  });

  it('a process name bounds a rule whose path test is open; names are cut to the 15 bytes of a comm', () => {
    expect(filterOf('evt.type = openat and proc.name = sshd and fd.name contains liblzma')).toEqual({ prefixes: [], suffixes: [], needles: [], comms: ['sshd'] });
    expect(filterOf('evt.type = openat and proc.name in (tar, averyveryverylongname)')?.comms).toEqual(['averyveryverylo', 'tar']);
    // A path set is kept over a name set (names in rules are often busy programs).
    expect(filterOf('evt.type = openat and proc.name = bash and fd.name startswith /etc')).toEqual({ prefixes: [{ prefix: '/etc', writeOnly: false }], suffixes: [], needles: [], comms: [] });
    expect(filterOf('evt.type = openat and proc.name in (a, b) and proc.name in (b, c)')).toEqual({ prefixes: [], suffixes: [], needles: [], comms: ['b'] });
  });

  it('a substring bounds opens that can write only; one that holds for reads keeps the filter off', () => {
    expect(filterOf('evt.type = openat and evt.is_open_write = true and fd.name contains fish_read_history')).toEqual({ prefixes: [], suffixes: [], needles: ['fish_read_history'], comms: [] });
    expect(filterOf('evt.type = openat and fd.name contains fish_read_history')).toBeUndefined();
    // Beside a process name, a read substring gives way to the name.
    expect(filterOf('evt.type = openat and proc.name = sshd and fd.name contains liblzma')?.comms).toEqual(['sshd']);
  });

  it("a test only a path with '../' passes needs no atom: the kernel ships such paths unjudged", () => {
    expect(filterOf('evt.type = openat and fd.nameraw contains ../ and fd.name contains id_rsa')).toEqual({ prefixes: [], suffixes: [], needles: [], comms: [] });
    expect(filterOf("evt.type = openat and fd.nameraw glob '*../*../*'")).toEqual({ prefixes: [], suffixes: [], needles: [], comms: [] });
    expect(filterOf("evt.type = openat and fd.nameraw glob '*[.]./*'")).toBeUndefined();
    expect(filterOf('evt.type = openat and not fd.nameraw contains ../')).toBeUndefined();
  });

  it("Falco's stock files each leave the filter bounded, and /etc/hostname is not in it", () => {
    for (const file of STOCK_SYSCALL_FILES) {
      const decision = openFilterFor(loadRules([file]));
      expect(decision.unboundedBy, file).toBeUndefined();
      const f = decision.filter!;
      expect(f.prefixes.some((p) => '/etc/hostname'.startsWith(p.prefix) && !p.writeOnly), file).toBe(false);
    }
    const all = openFilterFor(loadRules([...STOCK_SYSCALL_FILES])).filter!;
    expect(all.comms).toContain('sshd');
    expect(all.prefixes.length).toBeLessThanOrEqual(PATH_PREFIX_MAX);
  });

  it('names the rule that turns the filter off', () => {
    const file = join(tmp, 'unbounded.yaml');
    writeFileSync(file, ['- rule: Any open', '  desc: d', '  condition: evt.type = openat and fd.name contains x', '  output: o', '  priority: NOTICE', ''].join('\n'));
    expect(openFilterFor(loadRules([file]))).toEqual({ filter: null, unboundedBy: 'Any open' });
  });

  it("Lanner's default rules are bounded", () => {
    const defaults = openFilterFor(loadRules([join(__dirname, '../../rules/lanner_rules.yaml')])).filter?.prefixes;
    expect(defaults).toBeDefined();
    const covers = (path: string, write: boolean): boolean => defaults!.some((p) => path.startsWith(p.prefix) && (write || !p.writeOnly));
    expect(covers('/etc/shadow', false)).toBe(true);
    expect(covers('/etc/hostname', false)).toBe(false);
    expect(covers('/etc/hostname', true)).toBe(true);
    expect(defaults!.every((p) => p.prefix.startsWith('/'))).toBe(true);
  });
});

describe('openFilterFor, patterns', () => {
  it('a glob or pmatch that starts with a wildcard can match any path', () => {
    expect(filterOf("evt.type = openat and fd.name glob '*/var/log*'")).toBeUndefined();
    expect(filterOf("evt.type = openat and fd.name glob '/var/log/*.log'")).toEqual({ prefixes: [{ prefix: '/var/log/', writeOnly: false }], suffixes: [], needles: [], comms: [] });
    // A relative head only matches relative paths, which always ship.
    expect(filterOf("evt.type = openat and fd.name glob 'log/*'")).toEqual({ prefixes: [], suffixes: [], needles: [], comms: [] });
  });
});

describe('the filters the rules compile to fit the probe', () => {
  it('the stock files and the default rules give atoms the probe accepts, within the shared tables', () => {
    const sets = [[join(__dirname, '../../rules/lanner_rules.yaml')], ...STOCK_SYSCALL_FILES.map((f) => [f]), [join(__dirname, '../../rules/lanner_rules.yaml'), ...STOCK_SYSCALL_FILES]];
    for (const files of sets) {
      const rs = loadRules(files);
      const open = nativePathFilter(openFilterFor(rs).filter);
      const change = nativePathFilter(changeFilterFor(rs).filter);
      const atoms = [...(open?.atoms ?? []), ...(change?.atoms ?? [])];
      const suffixes = atoms.filter((a) => a.match === NATIVE_PATH_MATCH.suffix).length;
      expect(atoms.length - suffixes, files.join(' ')).toBeLessThanOrEqual(PATH_PREFIX_MAX);
      expect(suffixes, files.join(' ')).toBeLessThanOrEqual(PATH_SUFFIX_MAX);
      expect(new Set([...(open?.comms ?? []), ...(change?.comms ?? [])]).size).toBeLessThanOrEqual(FILTER_COMM_MAX);
    }
  });

  it('values a judged path cannot hold give no atom', () => {
    expect(filterOf('evt.type = openat and fd.name in (/etc//shadow, /etc/./x, /etc/.)')).toEqual({ prefixes: [], suffixes: [], needles: [], comms: [] });
    expect(modesOf('evt.type = openat and fd.name startswith /dev/shm/.')).toEqual([{ prefix: '/dev/shm/.', writeOnly: false }]);
  });
});

describe('changeFilterFor', () => {
  function changeOf(...conditions: string[]): ReturnType<typeof changeFilterFor> {
    const file = join(tmp, `c${n++}.yaml`);
    writeFileSync(file, conditions.map((c, i) => [`- rule: r${i}`, '  desc: d', `  condition: ${c}`, '  output: o', '  priority: NOTICE', ''].join('\n')).join('\n'));
    const rs = loadRules([file]);
    expect(rs.errors).toEqual([]);
    return changeFilterFor(rs);
  }

  it('a flag test on the mode gives mode bits; one a rendered mode could hold elsewhere keeps the type open', () => {
    const setuid = changeOf('evt.type in (chmod, fchmodat) and (evt.arg.mode contains S_ISUID or evt.arg.mode contains S_ISGID) and not proc.name = dpkg');
    expect(setuid.byType).toEqual({ chmod: { filtered: true }, fchmodat: { filtered: true } });
    expect(setuid.filter?.modeMask).toBe(0o6000);
    expect(changeOf('evt.type = chmod and evt.arg.mode contains S_IS').filter?.modeMask).toBe(0o7000);
    expect(changeOf('evt.type = chmod and evt.arg.mode contains 0755').byType).toEqual({ chmod: { filtered: false, unboundedBy: 'r0' } });
  });

  it('a substring test gives a needle for path changes (not for opens, whose path is too hot to search)', () => {
    const c = changeOf('evt.type in (unlink, rename) and (evt.arg.path contains fish_read_history or evt.arg.oldpath contains fish_read_history) and not proc.name = fish');
    expect(c.byType).toEqual({ unlink: { filtered: true }, rename: { filtered: true } });
    expect(c.filter?.needles).toEqual(['fish_read_history']);
    expect(filterOf('evt.type = openat and fd.name contains fish_read_history')).toBeUndefined();
    // Falco's incubating shell-history rule: every path-changing type stays filtered.
    const stock = changeFilterFor(loadRules([...STOCK_SYSCALL_FILES]));
    expect(Object.values(stock.byType).every((t) => t.filtered)).toBe(true);
  });

  it('per type: a path a type does not have is no path, and two-path calls count either path', () => {
    const c = changeOf('evt.type in (unlink, unlinkat, rename) and (evt.arg.name endswith _history or evt.arg.newpath startswith /etc/cron.d)');
    // unlink has `path`, not `name`: nothing a rule can match, so every unlink is filtered.
    expect(c.byType).toEqual({ unlink: { filtered: true }, unlinkat: { filtered: true }, rename: { filtered: true } });
    expect(c.filter?.suffixes).toEqual([{ suffix: '_history', writeOnly: false }]);
    expect(c.filter?.prefixes).toEqual([{ prefix: '/etc/cron.d', writeOnly: false }]);
    expect(changeOf('evt.type = rename and not evt.arg.oldpath startswith /tmp').byType).toEqual({ rename: { filtered: false, unboundedBy: 'r0' } });
  });
});
