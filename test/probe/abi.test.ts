import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_TYPES } from '../../src/probe/event-types';
import { KILL_PATH_LEN } from '../../src/enforce/kernel-predicate';
import { KILL_NAME_MAX, KILL_PATH_MAX, KILL_RULE_MAX } from '../../src/enforce/plan';
import {
  ABI_VERSION,
  ALIAS_MAX,
  ALIAS_PATH_LEN,
  FLAG_ALIASED,
  FLAG_ARGV_TRUNCATED,
  FLAG_ENTER_STASH,
  FLAG_FD_CHECKED,
  FLAG_FD_SOCKET,
  FLAG_KILL_FAILED,
  FLAG_KILL_HELD,
  FLAG_KILLED,
  FLAG_TRUNCATED,
  HEADER_SIZE,
  MAX_RECORD,
  OFF,
  PATH_FILTER_WINDOW,
  PATH_PREFIX_LEN,
  PATH_PREFIX_MAX,
  PATH_SUFFIX_MAX,
  PATH_SUFFIX_LEN,
  PATH_NEEDLE_MAX,
  PATH_NEEDLE_LEN,
  FILTER_COMM_MAX,
  SLOT,
} from '../../src/probe/layout';
import { ADDON_PATH, tryLoadAddon } from '../../src/probe/native';
import { existsSync } from 'node:fs';

const addonMissing = !existsSync(ADDON_PATH);

describe('probe ABI', () => {
  it('events.h enum has exactly the ids of the TS event type table', () => {
    const header = readFileSync(resolve(__dirname, '../../native/bpf/events.h'), 'utf8');
    const ids = new Map<string, number>();
    for (const m of header.matchAll(/^\s*LNR_EVT_([A-Z0-9_]+) = (\d+),/gm)) ids.set(m[1]!.toLowerCase(), Number(m[2]));
    ids.delete('count');
    expect(ids.size).toBe(EVENT_TYPES.length);
    for (const t of EVENT_TYPES) expect(ids.get(t.name), t.name).toBe(t.id);
    expect(header).toContain(`#define LNR_ABI_VERSION ${ABI_VERSION}`);
  });

  const addonTest = addonMissing && process.env.CI !== 'true' ? it.skip : it;
  if (addonMissing && process.env.CI !== 'true') console.warn(`skipping addon ABI test: ${ADDON_PATH} not built`);

  addonTest('the compiled addon agrees with the TS layout and type table', () => {
    const addon = tryLoadAddon();
    if (!addon) throw new Error(`addon not built: ${ADDON_PATH}`);
    const abi = addon.abi();
    expect(abi.version).toBe(ABI_VERSION);
    expect(abi.headerSize).toBe(HEADER_SIZE);
    expect(abi.maxRecord).toBe(MAX_RECORD);
    expect(abi.typeCount).toBe(EVENT_TYPES.length);
    expect([abi.pathPrefixMax, abi.pathPrefixLen, abi.pathFilterWindow]).toEqual([PATH_PREFIX_MAX, PATH_PREFIX_LEN, PATH_FILTER_WINDOW]);
    expect([abi.pathSuffixMax, abi.pathSuffixLen, abi.pathNeedleMax, abi.pathNeedleLen, abi.filterCommMax]).toEqual([PATH_SUFFIX_MAX, PATH_SUFFIX_LEN, PATH_NEEDLE_MAX, PATH_NEEDLE_LEN, FILTER_COMM_MAX]);
    expect(abi.offsets).toEqual({ ...OFF });
    expect(abi.slots).toEqual({ ...SLOT });
    expect([abi.killPathMax, abi.killRuleMax, abi.killNameMax, abi.killPathLen]).toEqual([KILL_PATH_MAX, KILL_RULE_MAX, KILL_NAME_MAX, KILL_PATH_LEN]);
    expect(abi.flags).toEqual({ truncated: FLAG_TRUNCATED, enterStash: FLAG_ENTER_STASH, argvTruncated: FLAG_ARGV_TRUNCATED, aliased: FLAG_ALIASED, killed: FLAG_KILLED, killHeld: FLAG_KILL_HELD, killFailed: FLAG_KILL_FAILED, fdChecked: FLAG_FD_CHECKED, fdSocket: FLAG_FD_SOCKET });
    expect([abi.aliasMax, abi.aliasPathLen]).toEqual([ALIAS_MAX, ALIAS_PATH_LEN]);
    expect(Object.keys(abi.types).length).toBe(EVENT_TYPES.length);
    for (const t of EVENT_TYPES) expect(abi.types[t.name], t.name).toBe(t.id);
  });

  addonTest('the boot-time offset matches wall clock minus uptime', async () => {
    const { bootOffsetNs } = await import('../../src/probe/clock');
    const offset = bootOffsetNs();
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const expected = Date.now() * 1e6 - uptimeS * 1e9;
    expect(Math.abs(Number(offset) - expected)).toBeLessThan(2e9);
  });
});
