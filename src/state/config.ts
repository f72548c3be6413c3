import { z } from 'zod';

/** The `state:` section of lanner.yaml (owned by src/state). Defaults live in lanner.yaml only. */
export const stateConfigSchema = z.object({}).passthrough();
export type StateConfig = z.infer<typeof stateConfigSchema>;
