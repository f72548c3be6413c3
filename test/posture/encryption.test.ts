import { describe, expect, it } from 'vitest';
import { evaluateEncryption } from '../../src/posture/encryption';

const doc = (resources: string): string => `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
${resources}`;

const key = `keys:
          - name: key1
            secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/Cg==`;

describe('EncryptionConfiguration judgement', () => {
  it('aescbc first for secrets passes', () => {
    const v = evaluateEncryption('/etc/enc.yaml', doc(`  - resources: [secrets]\n    providers:\n      - aescbc:\n          ${key}\n      - identity: {}\n`));
    expect(v.status).toBe('PASS');
    expect(v.actual).toContain('aescbc');
    expect(v.note).toBeUndefined();
  });

  it('identity first for secrets fails even when a strong provider follows', () => {
    const v = evaluateEncryption('/etc/enc.yaml', doc(`  - resources: [secrets]\n    providers:\n      - identity: {}\n      - aescbc:\n          ${key}\n`));
    expect(v.status).toBe('FAIL');
    expect(v.actual).toContain('identity');
  });

  it('identity first in a *.* entry governing secrets fails', () => {
    const v = evaluateEncryption('/e', doc(`  - resources: [configmaps]\n    providers:\n      - secretbox:\n          ${key}\n  - resources: ['*.*']\n    providers:\n      - identity: {}\n`));
    expect(v.status).toBe('FAIL');
  });

  it('the earlier entry wins: secrets encrypted before a later identity *.* entry', () => {
    const v = evaluateEncryption('/e', doc(`  - resources: [secrets]\n    providers:\n      - kms:\n          apiVersion: v2\n          name: k\n          endpoint: unix:///k.sock\n  - resources: ['*.*']\n    providers:\n      - identity: {}\n`));
    expect(v.status).toBe('PASS');
    expect(v.actual).toContain('kms');
  });

  it('a last `providers:` line saying aescbc does not hide identity-first secrets (kube-bench text scan would)', () => {
    const v = evaluateEncryption('/e', doc(`  - resources: [secrets]\n    providers:\n      - identity: {}\n  - resources: [configmaps]\n    providers:\n      - aescbc:\n          ${key}\n`));
    expect(v.status).toBe('FAIL');
  });

  it('aesgcm passes with a note', () => {
    const v = evaluateEncryption('/e', doc(`  - resources: [secrets]\n    providers:\n      - aesgcm:\n          ${key}\n`));
    expect(v.status).toBe('PASS');
    expect(v.note).toMatch(/rotat/);
  });

  it('unknown providers are flagged', () => {
    const v = evaluateEncryption('/e', doc(`  - resources: [secrets]\n    providers:\n      - rot13: {}\n`));
    expect(v.status).toBe('WARN');
    expect(v.actual).toContain('rot13');
    const later = evaluateEncryption('/e', doc(`  - resources: [secrets]\n    providers:\n      - aescbc:\n          ${key}\n      - vault: {}\n`));
    expect(later.status).toBe('WARN');
    expect(later.actual).toContain('vault');
  });

  it('secrets not covered, missing flag, missing file and bad YAML fail', () => {
    expect(evaluateEncryption('/e', doc(`  - resources: [configmaps]\n    providers:\n      - aescbc:\n          ${key}\n`)).status).toBe('FAIL');
    expect(evaluateEncryption(undefined, undefined).status).toBe('FAIL');
    expect(evaluateEncryption('/e', undefined, 'ENOENT')).toMatchObject({ status: 'FAIL', actual: expect.stringContaining('ENOENT') });
    expect(evaluateEncryption('/e', 'kind: [unclosed').status).toBe('FAIL');
    expect(evaluateEncryption('/e', 'kind: Pod\n').status).toBe('FAIL');
  });
});
