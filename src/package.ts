/**
 * Where the installed package lives and what it is: a leaf module (it imports nothing of ours), so
 * any part may ask without creating an import cycle.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The package root: dist/.. when built, src/.. under the test runner. */
export const PACKAGE_DIR = resolve(__dirname, '..');

/** A path from configuration: absolute as given, else relative to the package directory. */
export function resolvePackagePath(p: string): string {
  return resolve(PACKAGE_DIR, p);
}

let version: string | undefined;

/** The package's version from package.json, read once. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(resolve(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}
