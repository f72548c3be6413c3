/**
 * Dependency rules for src/ (run by `npm run check:deps`, part of `npm test`): no import cycles,
 * and no arrow back up the pipeline (probe → state → rules → engine → outputs → agent).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: modules that cannot be understood, tested or loaded one at a time.',
      from: { path: '^src' },
      to: { circular: true },
    },
    {
      name: 'probe-is-the-source',
      severity: 'error',
      comment: 'The probe knows nothing of what consumes its events.',
      from: { path: '^src/probe' },
      to: { path: '^src/(state|rules|engine|outputs|metrics|posture|agent|commands)/' },
    },
    {
      name: 'state-below-rules',
      severity: 'error',
      comment: 'State answers questions; it does not know the rules, the engine or the sinks.',
      from: { path: '^src/state' },
      to: { path: '^src/(rules|engine|outputs|metrics|posture|agent|commands)/' },
    },
    {
      name: 'rules-below-engine',
      severity: 'error',
      comment: 'Rules compile conditions; the engine runs them and outputs deliver alerts.',
      from: { path: '^src/rules' },
      to: { path: '^src/(engine|outputs|metrics|posture|agent|commands)/' },
    },
    {
      name: 'outputs-below-engine',
      severity: 'error',
      comment: 'Sinks take alerts; they do not reach into the engine that produces them.',
      from: { path: '^src/outputs' },
      to: { path: '^src/(engine|agent|commands|posture)/' },
    },
    {
      name: 'captures-beside-the-pipeline',
      severity: 'error',
      comment: 'Rule captures take batches and alerts from the agent; the pipeline stages do not know them.',
      from: { path: '^src/(probe|state|rules|engine|outputs|metrics|posture|audit)/' },
      to: { path: '^src/capture/' },
    },
    {
      name: 'captures-know-only-contracts',
      severity: 'error',
      comment: 'Rule captures see raw batches and alerts, not the engine, the state or the agent.',
      from: { path: '^src/capture' },
      to: { path: '^src/(state|engine|metrics|posture|audit|agent|commands)/' },
    },
    {
      name: 'only-the-shell-knows-commands',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(cli\\.ts|commands/)' },
      to: { path: '^src/commands/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
