/**
 * Agent logs: pino JSON on stderr, so stdout stays a clean alert stream a SIEM can tail.
 * Pretty printing (pino-pretty, also to stderr) only when asked for.
 */
import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export interface LogOptions {
  readonly level: string;
  readonly pretty: boolean;
}

export function createLogger(opts: LogOptions): Logger {
  if (opts.pretty) {
    return pino({
      level: opts.level,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: false } },
    });
  }
  // Synchronous writes: a crash or exit() must not lose the last lines explaining it.
  return pino({ level: opts.level, base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
}
