import { z } from 'zod';

/** The `outputs:` section of lanner.yaml (owned by src/outputs). Defaults live in lanner.yaml only. */
export const outputsConfigSchema = z.object({}).passthrough();
export type OutputsConfig = z.infer<typeof outputsConfigSchema>;
