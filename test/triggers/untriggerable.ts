/**
 * Stock rules no action on this machine can raise, with the reason. Every other stock rule has a
 * trigger (test/triggers/catalogue.test.ts checks the two lists cover the three files exactly).
 */
import type { Untriggerable } from './trigger';

export const UNTRIGGERABLE: readonly Untriggerable[] = [
  {
    rule: 'Contact K8S API Server From Container',
    reason: 'keys on fd.sip.name = kubernetes.default.svc.cluster.local: Lanner does not resolve DNS names (the field is never extractable), and no cluster DNS exists here',
  },
  {
    rule: 'Detect outbound connections to common miner pool ports',
    reason: 'keys on fd.sip.name in a list of mining pool domains: Lanner does not resolve DNS names (the field is never extractable)',
  },
  {
    rule: 'Java Process Class File Download',
    reason: 'keys on evt.buffer (the bytes received): the probe does not capture I/O payloads',
  },
];
