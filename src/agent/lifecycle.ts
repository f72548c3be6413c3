/**
 * The agent's start and stop order, written down as data (fastify's habit): each step names what
 * it starts and what undoes it. Steps start in order and stop in reverse, so a part is stopped
 * only after everything that feeds it: the probe detaches before the engine evaluates what is
 * left, and the engine before the outputs flush. A step that fails to start is stopped itself (it
 * may hold half of what it acquires: a gRPC server bound while the file sink failed), then the
 * ones already started are, and the error names the step. A step's stop must therefore cope with
 * a start that did not finish.
 */
import type { Logger } from '../log';

export interface LifecycleStep {
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/** A step failed to start; what it said is the message, the step is named. */
export class StartError extends Error {
  constructor(
    readonly step: string,
    readonly reason: unknown,
  ) {
    super(`${step}: ${reason instanceof Error ? reason.message : String(reason)}`);
    this.name = 'StartError';
  }
}

export interface StopFailure {
  readonly step: string;
  readonly error: Error;
}

export class Lifecycle {
  private readonly started: LifecycleStep[] = [];
  private stopping: Promise<readonly StopFailure[]> | undefined;

  constructor(
    private readonly steps: readonly LifecycleStep[],
    private readonly log: Pick<Logger, 'debug' | 'error'>,
  ) {}

  /** Starts every step in order; on a failure stops what started and throws StartError. */
  async start(): Promise<void> {
    for (const step of this.steps) {
      try {
        await step.start?.();
      } catch (err) {
        // Undo the half start first: what it acquired must not keep the process alive.
        this.started.push(step);
        await this.stop();
        throw err instanceof StartError ? err : new StartError(step.name, err);
      }
      this.started.push(step);
      this.log.debug({ step: step.name }, 'started');
    }
  }

  /** Stops the started steps in reverse order, once; a step that throws does not stop the rest. */
  stop(): Promise<readonly StopFailure[]> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private async stopAll(): Promise<readonly StopFailure[]> {
    const failures: StopFailure[] = [];
    for (const step of this.started.splice(0).reverse()) {
      try {
        await step.stop?.();
        this.log.debug({ step: step.name }, 'stopped');
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        failures.push({ step: step.name, error });
        this.log.error({ step: step.name, err: error }, 'stop failed');
      }
    }
    return failures;
  }
}
