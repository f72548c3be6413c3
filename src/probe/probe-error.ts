/** A probe failure with a stable `code` (EPERM, ENOBTF, EVERIFIER, ENOADDON, …) and, for verifier rejections, the log. */
export class ProbeError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly verifierLog?: string,
  ) {
    super(message);
    this.name = 'ProbeError';
  }
}
