import { z } from 'zod';

/** The `drops:` section of lanner.yaml: the dropped-events self-alert. */
export const dropsConfigSchema = z.object({}).passthrough();
export type DropsConfig = z.infer<typeof dropsConfigSchema>;
