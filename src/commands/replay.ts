/** `lanner replay`: the agent's own pipeline over a capture file, alerts to the configured outputs. */
import type { Command } from 'commander';
import { buildPipeline, Lifecycle, StartError } from '../agent';
import { createLogger } from '../log';
import { openCapture } from '../probe';
import { configOptions, loadRunConfig, rulesOption, type CommonRunOptions } from './options';

export function addReplayCommand(program: Command): void {
  configOptions(rulesOption(program.command('replay').description('run the rule engine over a capture file and print the alerts')))
    .argument('<file>', 'capture file written by lanner record or by a rule with capture')
    .action(async (file: string, opts: CommonRunOptions) => {
      const config = { ...loadRunConfig(opts), watch_rules: false };
      const log = createLogger(config.log);
      const capture = openCapture(file);
      const trigger = capture.header.trigger;
      // A capture a rule triggered says which; the same rules should match it again.
      if (trigger) log.info({ file, ...trigger }, 'capture triggered by a rule');
      // A capture is evaluated against today's rules with the boot clock it was recorded under, and
      // without the live host's /proc seeding: its processes are the recorded ones.
      const pipeline = buildPipeline(config, log, { bootOffsetNs: capture.header.bootOffsetNs, seedState: false });
      const lifecycle = new Lifecycle([...pipeline.steps, { name: 'capture', start: () => capture.start(pipeline.onBatch), stop: () => capture.close() }], log);
      try {
        await lifecycle.start();
      } catch (err) {
        await capture.close();
        // Rule errors are already printed with file:line:column; anything else says what failed.
        if (!(err instanceof StartError && err.step === 'rules')) throw err;
        process.exitCode = 1;
        return;
      }
      await capture.done;
      pipeline.engine.flush();
      if (trigger) {
        const matches = pipeline.engine.stats().matchesByRule.find((m) => m.rule === trigger.rule)?.count ?? 0;
        if (matches > 0) log.info({ rule: trigger.rule, matches }, 'the rule that triggered the capture matched again');
        else log.warn({ rule: trigger.rule }, 'the rule that triggered the capture did not match in the replay (other rules, or its window lacks the state it needs)');
      }
      const failures = await lifecycle.stop();
      process.exitCode = failures.length > 0 ? 1 : 0;
    });
}
