import base from '/work/main/stryker.config.mjs';
export default {
  ...base,
  mutate: ['handlers/application/stepProcessor.ts', 'handlers/application/commitExecutor.ts', 'domain/storable.ts'],
  commandRunner: {
    command:
      'node node_modules/mocha/bin/mocha.js --bail --reporter dot "tests/unit/application/*.test.ts" tests/unit/storable.test.ts tests/unit/hostileInput.test.ts tests/unit/step.test.ts',
  },
  reporters: ['clear-text', 'json'],
  jsonReporter: { fileName: 'reports/mutation/scoped.json' },
  thresholds: { high: 95, low: 90, break: null },
};
