import { z } from 'zod';

/** The `drops:` section of lanner.yaml: the dropped-events self-alert. Defaults live in lanner.yaml only. */
export const dropActions = ['ignore', 'log', 'alert', 'exit'] as const;
export type DropAction = (typeof dropActions)[number];

export const dropsConfigSchema = z
  .object({
    /** Fraction of events lost in one second above which the actions fire. */
    threshold: z.number().min(0).max(1),
    actions: z.array(z.enum(dropActions)),
    /** Actions per second the limiter allows (one per 30 s = 0.03333). */
    rate: z.number().positive(),
    max_burst: z.number().int().min(1),
  })
  .strict();
export type DropsConfig = z.infer<typeof dropsConfigSchema>;
