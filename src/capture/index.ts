/** Rule-triggered captures: the recent-events ring and the capture files a rule match writes. */
export { captureConfigSchema, megabytes, type CaptureConfig } from './config';
export { RecentBatches, firstRecordTs, type KeptChunk } from './ring';
export { RuleCaptures, CAPTURE_FILE_FIELD, type CaptureRuleInfo, type CaptureStats, type RuleCapturesOptions } from './rule-capture';
