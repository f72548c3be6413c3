import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { outputsConfigSchema, type OutputsConfig } from '../../src/outputs/config';
import { dropsConfigSchema, type DropsConfig } from '../../src/outputs/drops-config';

/** The `outputs:`/`drops:` sections proposed for the packaged lanner.yaml (fixture next to this file). */
export function proposedSections(): { outputs: unknown; drops: unknown } {
  return parse(readFileSync(join(__dirname, 'lanner-outputs-section.yaml'), 'utf8')) as { outputs: unknown; drops: unknown };
}

export function sampleOutputsConfig(): OutputsConfig {
  return outputsConfigSchema.parse(proposedSections().outputs);
}

export function sampleDropsConfig(): DropsConfig {
  return dropsConfigSchema.parse(proposedSections().drops);
}
