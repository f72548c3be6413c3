/** The agent's signals: SIGHUP reloads, the first SIGINT/SIGTERM stops. */

/** Resolves on the first SIGINT/SIGTERM; SIGHUP calls `onHup` each time until then. */
export function waitForShutdown(onHup: () => void): Promise<NodeJS.Signals> {
  process.on('SIGHUP', onHup);
  return new Promise((resolveSignal) => {
    const stop = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', onHup);
      resolveSignal(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
