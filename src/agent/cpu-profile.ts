/**
 * LANNER_CPU_PROFILE=FILE: V8 CPU profile of the running agent, written at shutdown. Started after
 * the probe is loaded because `node --cpu-prof` signals the process every millisecond, and the
 * kernel verifier gives up (EAGAIN) on a load interrupted by a pending signal.
 */
import { writeFileSync } from 'node:fs';

export interface CpuProfile {
  stop(): Promise<void>;
}

export async function startCpuProfile(file: string): Promise<CpuProfile> {
  const { Session } = await import('node:inspector');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object): Promise<unknown> =>
    new Promise((res, rej) => session.post(method, params, (err, result) => (err ? rej(err) : res(result))));
  await post('Profiler.enable');
  await post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
