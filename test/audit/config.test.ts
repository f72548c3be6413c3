/** The `audit:` section: packaged defaults validate; the webhook cannot be turned on without TLS. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';

describe('audit configuration', () => {
  it('packaged defaults: the source on, following the API server log it finds, the webhook off', () => {
    const { config } = loadConfig({ file: undefined });
    expect(config.audit).toMatchObject({ enabled: true, file: { enabled: true, path: '', start_at: 'end' }, webhook: { enabled: false, path: '/k8s-audit' } });
  });

  it('refuses a webhook without a certificate, and bad values, naming the key', () => {
    expect(() => loadConfig({ overrides: ['audit.webhook.enabled=true'] })).toThrow(/audit\.webhook\.tls.*HTTPS only/);
    expect(() => loadConfig({ overrides: ['audit.file.start_at=middle'] })).toThrow(/audit\.file\.start_at/);
    expect(() => loadConfig({ overrides: ['audit.webhook.listen=9765'] })).toThrow(/audit\.webhook\.listen/);
    expect(() => loadConfig({ overrides: ['audit.webhook.tls.require_client_cert=true'] })).toThrow(/require_client_cert needs ca_file/);
    const { config } = loadConfig({ overrides: ['audit.webhook.enabled=true', 'audit.webhook.tls.cert_file=/c.pem', 'audit.webhook.tls.key_file=/k.pem'] });
    expect(config.audit.webhook.enabled).toBe(true);
  });
});
