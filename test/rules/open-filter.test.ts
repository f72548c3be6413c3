import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRules } from '../../src/rules/ruleset';
import { openPathPrefixes, type OpenPathPrefix } from '../../src/rules/path-prefixes';

const tmp = mkdtempSync(join(tmpdir(), 'lanner-pp-'));
let n = 0;
function prefixesOf(...conditions: string[]): string[] | undefined {
  return modesOf(...conditions)?.map((p) => p.prefix);
}

function modesOf(...conditions: string[]): OpenPathPrefix[] | undefined {
  const file = join(tmp, `r${n++}.yaml`);
  writeFileSync(
    file,
    conditions.map((c, i) => [`- rule: r${i}`, '  desc: d', `  condition: ${c}`, '  output: o', '  priority: NOTICE', ''].join('\n')).join('\n'),
  );
  const rs = loadRules([file]);
  expect(rs.errors).toEqual([]);
  return openPathPrefixes(rs);
}

describe('openPathPrefixes', () => {
  it('collects the prefixes open rules test', () => {
    expect(prefixesOf('evt.type in (open, openat) and fd.name startswith /etc/kubernetes/pki', 'evt.type = openat and fd.name in (/etc/shadow, /etc/gshadow)')).toEqual([
      '/etc/gshadow',
      '/etc/kubernetes/pki',
      '/etc/shadow',
    ]);
  });

  it('an and is bounded by either side, an or needs both', () => {
    expect(prefixesOf('evt.type = openat and proc.name = cat and fd.name startswith /var/log')).toEqual(['/var/log']);
    expect(prefixesOf('evt.type = openat and (fd.name startswith /a or fd.name pmatch (/b/c, /d/*/e))')).toEqual(['/a', '/b/c', '/d/']);
    expect(prefixesOf('evt.type = openat and (fd.name startswith /a or proc.name = x)')).toBeUndefined();
  });

  it('a rule that can match any path turns the filter off', () => {
    expect(prefixesOf('evt.type = openat and fd.name startswith /etc', 'evt.type = openat and fd.name contains ../')).toBeUndefined();
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
      { prefix: '/etc/shadow', writeOnly: false },
    ]);
    expect(modesOf('evt.type = openat and fd.name startswith /etc', 'evt.type = openat and evt.is_open_write = true and fd.name startswith /etc/x')).toEqual([
      { prefix: '/etc', writeOnly: false },
    ]);
    // Writes anywhere: still a filter (reads are dropped), not "any open".
    expect(modesOf('evt.type = openat and evt.is_open_write = true')).toEqual([{ prefix: '/', writeOnly: true }]);
  });

  it("Lanner's default rules are bounded; Falco's stock rules are not", () => {
    const defaults = openPathPrefixes(loadRules([join(__dirname, '../../rules/lanner_rules.yaml')]));
    expect(defaults).toBeDefined();
    const covers = (path: string, write: boolean): boolean => defaults!.some((p) => path.startsWith(p.prefix) && (write || !p.writeOnly));
    expect(covers('/etc/shadow', false)).toBe(true);
    expect(covers('/etc/hostname', false)).toBe(false);
    expect(covers('/etc/hostname', true)).toBe(true);
    expect(defaults!.every((p) => p.prefix.startsWith('/'))).toBe(true);
    const stock = loadRules([STOCK_STABLE]);
    expect(openPathPrefixes(stock)).toBeUndefined();
  });
});
