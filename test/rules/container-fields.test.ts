/**
 * The container plugin's fields: mounts by index or source (a glob too), the container's age, and
 * the fields this agent does not collect, which load, never match and are listed as always null.
 */
import { describe, expect, it } from 'vitest';
import { findField } from '../../src/rules/fields';
import { compileRules } from '../../src/rules/ruleset';
import { container, FakeState, proc } from './fake-state';
import { evalCond } from './helpers';

const BOOT = 0;
function inContainer(): FakeState {
  return new FakeState()
    .addContainer(
      container({
        id: 'c0ffee123456',
        startTsNs: 1_000_000_000n,
        mounts: [
          { source: '/var/run/docker.sock', dest: '/var/run/docker.sock', mode: '', rw: true, propagation: 'rprivate' },
          { source: '/etc/hosts', dest: '/etc/hosts', mode: 'ro', rw: false, propagation: 'rprivate' },
        ],
      }),
    )
    .addProcess(proc({ tgid: 7, containerId: 'c0ffee123456' }));
}
const ev = { type: 'execve' as const, tgid: 7, tsNs: 3_000_000_000 + BOOT };

describe('container plugin fields', () => {
  it('reads a mount by index or by source, a glob included', () => {
    const s = inContainer();
    expect(evalCond('container.mount[0] = /var/run/docker.sock:/var/run/docker.sock::true:rprivate', ev, s)).toBe(true);
    expect(evalCond('container.mount[/etc/ho*] = /etc/hosts:/etc/hosts:ro:false:rprivate', ev, s)).toBe(true);
    expect(evalCond('container.mount[/nope] = none', ev, s)).toBe(true);
    expect(evalCond('container.mount.rdwr[/var/run/docker.sock] = true', ev, s)).toBe(true);
    expect(evalCond('container.mount.mode[1] = ro', ev, s)).toBe(true);
    expect(evalCond('container.mount.propagation[1] = rprivate', ev, s)).toBe(true);
    expect(evalCond('container.mount.dest[1] = /etc/hosts', ev, s)).toBe(true);
    expect(evalCond('container.mount.source[/etc/hosts] = /etc/hosts', ev, s)).toBe(true);
  });

  it("gives the container's age from its start", () => {
    expect(evalCond('container.duration = 2000000000', ev, inContainer())).toBe(true);
  });

  it('loads the fields it cannot serve: always null, never matching, with a warning', () => {
    for (const name of ['container.ip', 'container.host_network', 'k8s.pod.sandbox_id', 'k8s.deployment.name', 'proc.is_container_healthcheck']) {
      expect(findField(name)?.alwaysNull, name).toBe(true);
    }
    expect(evalCond('container.ip = 10.0.0.1', ev, inContainer())).toBe(false);
    const rs = compileRules([{ name: 'r.yaml', content: '- rule: r\n  desc: d\n  condition: evt.type = execve and container.host_network = true\n  output: o\n  priority: NOTICE\n' }]);
    expect(rs.errors).toEqual([]);
    expect(rs.warnings.map((w) => w.code)).toContain('LOAD_FIELD_ALWAYS_NULL');
  });
});
