/** `lanner record`: capture probe events to a file for a later `replay`. */
import { Option, type Command } from 'commander';
import { probeOptionsOf } from '../agent';
import { createLogger } from '../log';
import { recordCapture } from '../probe';
import { configOptions, loadRunConfig, parsePositive, type CommonRunOptions } from './options';

export function addRecordCommand(program: Command): void {
  configOptions(program.command('record').description('capture probe events to a file for later replay'))
    .requiredOption('-w, --write <file>', 'capture file to write')
    .addOption(new Option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)').argParser(parsePositive))
    .action(async (opts: CommonRunOptions & { write: string; duration?: number }) => {
      const config = loadRunConfig(opts);
      const log = createLogger(config.log);
      const ac = new AbortController();
      const stop = (): void => ac.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const result = await recordCapture({
        file: opts.write,
        ...(opts.duration !== undefined ? { durationS: opts.duration } : {}),
        probeOptions: probeOptionsOf(config),
        signal: ac.signal,
        onStarted: () => log.info({ file: opts.write }, 'recording'),
      });
      log.info({ file: opts.write, ...result }, 'capture written');
      process.exitCode = 0;
    });
}
