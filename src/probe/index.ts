/** Event sources: the kernel probe, capture replay, and the shared decoding pieces. */
export * from './event';
export * from './event-types';
export { syntheticEvent, syntheticBatch, type SyntheticEventInit } from './synthetic';
export { openProbe, ProbeError, typeMask, validateOpenPathPrefixes, DEFAULT_TRACKED_FD_TYPES, type ProbeOptions, type KernelEventSource, type OpenPathPrefix, type OpenPathFilterEntry, type OpenFilterSpec, type ChangeFilterSpec, type PathSuffix } from './probe';
export { applyKernelCapture, type AppliedKernelCapture, type KernelCapture } from './kernel-capture';
export {
  openCapture,
  openCaptureBytes,
  recordCapture,
  CaptureError,
  CaptureReader,
  CaptureWriter,
  CHUNK_HEADER_SIZE as CAPTURE_CHUNK_HEADER_SIZE,
  type CaptureSource,
  type CaptureTrigger,
  type CaptureHeader,
  type RecordOptions,
  type RecordResult,
} from './capture';
export { bootOffsetNs, toEpochNs } from './clock';
export { RecordView, BufferBatch, RecordError, scanRecords, normalizePath } from './decoder';
export { ABI_VERSION } from './layout';
export { probeConfigSchema, probeOptionsFromConfig, type ProbeConfig } from './config';
