import { expect } from 'chai';
import { createStepMetrics } from '../../../handlers/adapters/metrics/powertoolsMetrics';
import { emptyEmfSummary, foldEmfLine, formatEmfSummary, summarizeEmf } from '../../../observability/emfSummary';

const emf = (metrics: Record<string, number | number[]>, units: Record<string, string> = {}) =>
  JSON.stringify({
    _aws: {
      Timestamp: 0,
      CloudWatchMetrics: [
        {
          Namespace: 'ServerlessStateMachine',
          Dimensions: [['service', 'stage']],
          Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: units[Name] ?? 'Count' })),
        },
      ],
    },
    service: 'serverless-statemachine',
    stage: 'local',
    ...metrics,
  });

describe('the EMF summary', () => {
  it('sums counts and folds durations across lines, skipping everything else', () => {
    const summary = summarizeEmf([
      emf({ TransitionsCommitted: [1, 1], StepLatency: [10, 30] }, { StepLatency: 'Milliseconds' }),
      '{"level":"INFO","message":"step"}',
      'offline: POST /machines (λ: addMachine)',
      `2026-01-01T00:00:00Z ${emf({ TransitionsCommitted: 1, MachinesSucceeded: 1 })}`,
      '{"_aws": not json',
      emf({ StepLatency: 50 }, { StepLatency: 'Milliseconds' }),
    ]);
    expect(summary.lines).to.equal(3);
    expect(summary.skipped).to.equal(3);
    expect(summary.metrics.TransitionsCommitted).to.deep.equal({ unit: 'Count', count: 3, sum: 3, min: 1, max: 1 });
    expect(summary.metrics.StepLatency).to.deep.equal({ unit: 'Milliseconds', count: 3, sum: 90, min: 10, max: 50 });
    expect(formatEmfSummary(summary)).to.equal(
      [
        'metrics:',
        '  MachinesSucceeded      1',
        '  StepLatency            n=3 avg=30ms max=50ms',
        '  TransitionsCommitted   3',
      ].join('\n'),
    );
  });

  it('is pure: folding leaves the summary it was given unchanged', () => {
    const start = emptyEmfSummary();
    const next = foldEmfLine(start, emf({ Throttles: 2 }));
    expect(start).to.deep.equal({ lines: 0, skipped: 0, metrics: {} });
    expect(next.metrics.Throttles?.sum).to.equal(2);
    expect(formatEmfSummary(start)).to.equal('metrics: none yet');
  });

  it('splits chunks into lines and ignores malformed directives and non-numbers', () => {
    const odd = JSON.stringify({
      _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'A', Unit: 'Count' }, { Unit: 'Count' }, { Name: 'B' }] }, {}] },
      A: 'x',
      B: [2, null],
    });
    const summary = summarizeEmf([`${emf({ Retries: 1 })}\n\n${odd}\n`, 'null', '{"_aws":{}}']);
    expect(summary.lines).to.equal(2);
    expect(summary.skipped).to.equal(2);
    expect(Object.keys(summary.metrics).sort()).to.deep.equal(['B', 'Retries']);
    expect(summary.metrics.B).to.deep.equal({ unit: 'None', count: 1, sum: 2, min: 2, max: 2 });
    expect(formatEmfSummary(summary)).to.include('B                      n=1 avg=2 None max=2 None');
  });

  it('reads what the Powertools adapter writes: dimensions service and stage only', () => {
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
    const document = JSON.parse(written[0] ?? '');
    expect(document._aws.CloudWatchMetrics[0].Namespace).to.equal('Test');
    expect(document._aws.CloudWatchMetrics[0].Dimensions).to.deep.equal([['service', 'stage']]);
    expect(document).to.include({ service: 'serverless-statemachine', stage: 'local' });
    const summary = summarizeEmf(written);
    expect(summary.metrics.TransitionsCommitted?.sum).to.equal(2);
    expect(summary.metrics.StepLatency).to.include({ unit: 'Milliseconds', max: 12 });
  });
});
