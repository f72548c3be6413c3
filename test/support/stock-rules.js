'use strict';
/**
 * Where the repository's vendored copies of Falco's stock rule files live (rules/falco/, see its
 * README for provenance). The one place tests and benchmarks learn these paths, so a clone with
 * nothing beside it runs them all. Plain CommonJS: the benchmarks under test/bench are plain JS.
 */
const { join } = require('node:path');

const STOCK_RULES_DIR = join(__dirname, '..', '..', 'rules', 'falco');

/** The three syscall-source files, in Falco's load order. */
const STOCK_SYSCALL_FILES = ['falco_rules.yaml', 'falco-incubating_rules.yaml', 'falco-sandbox_rules.yaml'].map((f) => join(STOCK_RULES_DIR, f));
const [STOCK_STABLE, STOCK_INCUBATING, STOCK_SANDBOX] = STOCK_SYSCALL_FILES;
/** The k8saudit plugin's rules (source k8s_audit). */
const STOCK_K8S_AUDIT = join(STOCK_RULES_DIR, 'k8s_audit_rules.yaml');

module.exports = { STOCK_RULES_DIR, STOCK_SYSCALL_FILES, STOCK_STABLE, STOCK_INCUBATING, STOCK_SANDBOX, STOCK_K8S_AUDIT };
