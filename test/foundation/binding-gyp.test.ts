/**
 * binding.gyp must build the same addon as CMakeLists.txt (cmake-js), offline. It is built here in
 * a copy of the sources, so it never disturbs build/Release/lanner.node, and the two addons must
 * describe the same ABI.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(__dirname, '../..');
const CMAKE_ADDON = join(REPO, 'build/Release/lanner.node');
const NODE_GYP = join(REPO, 'node_modules/node-gyp/bin/node-gyp.js');
// Debian's nodejs ships its headers under /usr/include/node: no download of node headers.
const NODEDIR = existsSync('/usr/include/node/node_api.h') ? '/usr' : resolve(process.execPath, '../..');

interface Addon {
  abi(): unknown;
}

describe('binding.gyp', () => {
  it('builds offline and yields the same ABI as the cmake-js build', () => {
    if (!existsSync(CMAKE_ADDON)) throw new Error(`${CMAKE_ADDON} is missing: run npm run setup`);
    const dir = mkdtempSync(join(tmpdir(), 'lanner-gyp-'));
    for (const f of ['binding.gyp', 'package.json', 'native']) cpSync(join(REPO, f), join(dir, f), { recursive: true });
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const r = spawnSync(process.execPath, [NODE_GYP, 'rebuild', `--nodedir=${NODEDIR}`, '--jobs=2'], { cwd: dir, encoding: 'utf8', timeout: 600_000 });
    expect(r.status, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`).toBe(0);
    const gyp = require(join(dir, 'build/Release/lanner.node')) as Addon;
    const cmake = require(CMAKE_ADDON) as Addon;
    expect(gyp.abi()).toEqual(cmake.abi());
  }, 600_000);
});
