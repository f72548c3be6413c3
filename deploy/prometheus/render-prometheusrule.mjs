#!/usr/bin/env node
// Writes the PrometheusRule for the prometheus-operator overlay from the plain rule file, so the
// two can never drift. `--check` exits 1 (and writes nothing) when the checked-in copy is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, 'lanner-alerts.rules.yaml');
const target = join(here, '..', 'kubernetes', 'overlays', 'prometheus-operator', 'prometheusrule.yaml');

export function renderPrometheusRule(rulesText) {
  const { groups } = parse(rulesText);
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'lanner-alerts', namespace: 'lanner', labels: { 'app.kubernetes.io/name': 'lanner' } },
    spec: { groups },
  };
  return `# GENERATED from deploy/prometheus/lanner-alerts.rules.yaml by deploy/prometheus/render-prometheusrule.mjs; do not edit.\n${stringify(manifest, { lineWidth: 0 })}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rendered = renderPrometheusRule(readFileSync(source, 'utf8'));
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {}
    if (current !== rendered) {
      console.error(`${target} is stale: run node deploy/prometheus/render-prometheusrule.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(target, rendered);
  }
}
