import { expect } from 'chai';
import { createStepMetrics } from '../../../handlers/adapters/metrics/powertoolsMetrics';
import { parseEmf, summarizeEmf } from '../../../plugins/serverless-offline-emulators/src/emf';

describe('the metrics adapter and the local stack’s EMF summary', () => {
  it('writes EMF the summary reads: namespace, dimensions service and stage only', () => {
    const written: string[] = [];
    const metrics = createStepMetrics({ STAGE: 'local', POWERTOOLS_METRICS_NAMESPACE: 'Test' });
    // Powertools writes through its own console; capture it for the test.
    (metrics.metrics as unknown as { console: { log: (line: string) => void } }).console = {
      log: (line: string) => written.push(line),
    };
    metrics.flush();
    expect(written).to.deep.equal([]);
    metrics.count('TransitionsCommitted');
    metrics.count('TransitionsCommitted');
    metrics.timing('StepLatency', 12);
    metrics.flush();
    expect(written).to.have.length(1);
    const emf = parseEmf(written[0] ?? '');
    expect(emf?.directives.map(({ Namespace, Dimensions }) => ({ Namespace, Dimensions }))).to.deep.equal([
      { Namespace: 'Test', Dimensions: [['service', 'stage']] },
    ]);
    expect(emf?.document).to.include({ service: 'serverless-statemachine', stage: 'local' });
    const summary = summarizeEmf(written);
    expect(summary.metrics.TransitionsCommitted?.sum).to.equal(2);
    expect(summary.metrics.StepLatency).to.include({ unit: 'Milliseconds', max: 12 });
  });
});
