/** `lanner list-events`: what the probe traces, and the event names Falco knows that it does not. */
import { describe, expect, it } from 'vitest';
import { formatEventList, listEvents } from '../../src/commands/list-events';
import { RULE_EVENT_TYPE_NAMES } from '../../src/probe/event-types';

describe('lanner list-events', () => {
  it('lists every traced event type with its parameters, and the known untraced names apart', () => {
    const l = listEvents();
    expect(l.traced.map((t) => t.name)).toEqual([...RULE_EVENT_TYPE_NAMES]);
    expect(l.traced.find((t) => t.name === 'openat')?.params.map((p) => p.name)).toEqual(['fd', 'dirfd', 'name', 'flags', 'mode']);
    expect(l.notTraced).toContain('getcwd');
    expect(l.notTraced).toContain('read');
    expect(l.notTraced.filter((n) => RULE_EVENT_TYPE_NAMES.includes(n))).toEqual([]);
  });
  it('prints Falco-like text and JSON', () => {
    const text = formatEventList(false);
    expect(text).toMatch(/^< openat\(fd fd, fd dirfd, path name, open_flags flags, mode mode\)$/m);
    expect(text).toMatch(/not traced by this probe \(\d+;/);
    expect(JSON.parse(formatEventList(true))).toEqual(listEvents());
  });
});
