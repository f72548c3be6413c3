import { z } from 'zod';

/** The `posture:` section of lanner.yaml (owned by src/posture). Defaults live in lanner.yaml only. */
export const postureConfigSchema = z.object({}).passthrough();
export type PostureConfig = z.infer<typeof postureConfigSchema>;
