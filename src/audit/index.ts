/** The k8s_audit event source: Kubernetes API server audit events (log file and webhook) evaluated by the k8s_audit rules. */
export { auditConfigSchema, type AuditConfig } from './config';
export { AUDIT_API_VERSION, BAD_INPUT_KINDS, decodeAuditJson, rfc3339ToNs, type AuditEvent, type BadInputKind } from './event';
export { AuditRuleEvaluator, type AuditRuleMatches } from './evaluator';
export { createAuditSource, RECEIVING_WINDOW_S, type AuditSource, type AuditSourceDeps, type AuditSourceState, type AuditSourceStats, type AuditSourceStatus } from './source';
