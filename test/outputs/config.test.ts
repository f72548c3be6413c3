import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { outputsConfigSchema } from '../../src/outputs/config';
import { dropsConfigSchema } from '../../src/outputs/drops-config';
import { proposedSections, sampleOutputsConfig } from './sample-config';

describe('outputs/drops config schemas', () => {
  it('accept the proposed lanner.yaml sections', () => {
    const c = sampleOutputsConfig();
    expect(c.stdout.enabled).toBe(true);
    expect(c.grpc.bind_address).toBe('unix:///run/lanner/lanner.sock');
  });

  it('reject unknown keys, bad enums and inconsistent TLS/URL settings', () => {
    const good = proposedSections().outputs as Record<string, Record<string, unknown>>;
    const bad = (patch: (o: Record<string, Record<string, unknown>>) => void): boolean => {
      const o = structuredClone(good);
      patch(o);
      return outputsConfigSchema.safeParse(o).success;
    };
    expect(bad(() => undefined)).toBe(true);
    expect(bad((o) => (o.stdout!.colour = true))).toBe(false);
    expect(bad((o) => (o.syslog!.transport = 'smoke'))).toBe(false);
    expect(bad((o) => (o.syslog!.facility = 'local9'))).toBe(false);
    expect(bad((o) => ((o.http!.enabled = true), (o.http!.url = '')))).toBe(false);
    expect(bad((o) => ((o.http!.enabled = true), (o.http!.url = 'https://sidekick:2801/')))).toBe(true);
    expect(bad((o) => ((o.http!.tls as Record<string, unknown>).cert_file = '/x.pem'))).toBe(false);
    expect(bad((o) => (o.grpc!.bind_address = '0.0.0.0'))).toBe(false);
    expect(bad((o) => ((o.grpc!.tls as Record<string, unknown>).require_client_cert = true))).toBe(false);
    expect(bad((o) => (o.file!.queue_capacity = 0))).toBe(false);
    expect(dropsConfigSchema.safeParse({ threshold: 2, actions: ['log'], rate: 1, max_burst: 1 }).success).toBe(false);
    expect(dropsConfigSchema.safeParse({ threshold: 0.1, actions: ['page'], rate: 1, max_burst: 1 }).success).toBe(false);
  });

  // Once the lead ships lanner.yaml, its sections must satisfy these schemas too.
  const packaged = join(__dirname, '../../lanner.yaml');
  it.skipIf(!existsSync(packaged))('the packaged lanner.yaml outputs/drops sections validate', () => {
    const y = parse(readFileSync(packaged, 'utf8')) as { outputs: unknown; drops: unknown };
    expect(outputsConfigSchema.safeParse(y.outputs).error?.issues ?? []).toEqual([]);
    expect(dropsConfigSchema.safeParse(y.drops).error?.issues ?? []).toEqual([]);
  });
});
