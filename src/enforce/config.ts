import { z } from 'zod';

/**
 * The `enforcement:` section of lanner.yaml: what a rule with `actions: [kill]` does. Defaults live
 * in lanner.yaml only.
 */
export const enforcementConfigSchema = z
  .object({
    /** monitor: alerts say what would have been killed; enforce: kill. A rule's own `enforcement` key wins. */
    mode: z.enum(['monitor', 'enforce']),
    /** Kill in the kernel, at the syscall's exit, the rules whose condition compiles exactly to the kernel's check. */
    kernel: z.boolean(),
    /**
     * Process names never killed (the comm, at most 15 bytes); a trailing `*` matches names that
     * start with the rest. pid 1, the agent, its children and kernel threads are never killed either.
     */
    protected: z
      .array(
        z
          .string()
          .min(1)
          .max(64)
          .refine((n) => !n.includes('\0') && (!n.includes('*') || (n.indexOf('*') === n.length - 1 && n.length > 1)), { message: "a name, or a prefix ending in one '*'" }),
      )
      .max(24),
    /** Per-rule kill rate limit: a token bucket of `burst` kills refilled at `per_second`. */
    rate: z.object({ per_second: z.number().gt(0).max(10_000), burst: z.number().int().min(1).max(10_000) }).strict(),
  })
  .strict();

export type EnforcementConfig = z.infer<typeof enforcementConfigSchema>;
