/** docs/coverage.md is what test/triggers/mitre-coverage.ts generates from today's rules. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COVERAGE_DOC, renderCoverage } from './mitre-coverage';

describe('MITRE ATT&CK coverage table', () => {
  it('docs/coverage.md is up to date (npm run docs:coverage rewrites it)', () => {
    expect(readFileSync(COVERAGE_DOC, 'utf8')).toBe(renderCoverage());
  });

  it('lists every tactic the default rules are tagged with, and a technique under its tactic', () => {
    const doc = renderCoverage();
    expect(doc).toMatch(/## Execution \(TA0002\)\n[^#]*\| T1053\.003 Scheduled Task\/Job: Cron \| Cron job scheduled \| Schedule Cron Jobs \|/);
    expect(doc).toMatch(/## Credential Access \(TA0006\)/);
  });
});
