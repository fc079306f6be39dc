import { Writable } from 'node:stream';
import { expect } from 'chai';
import { emptyEmfSummary, foldEmfLine, formatEmfSummary, parseEmf, reportMetrics, summarizeEmf } from '../src/emf';

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
      'metrics: MachinesSucceeded 1, StepLatency n=3 avg=30ms max=50ms, TransitionsCommitted 3',
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
    expect(formatEmfSummary(summary)).to.equal('metrics: B n=1 avg=2 None max=2 None, Retries 1');
  });

  it('gives the document and its directives of an EMF line, nothing for other lines', () => {
    const parsed = parseEmf(`prefix ${emf({ Retries: 1 })}`);
    expect(parsed?.directives).to.deep.equal([
      {
        Namespace: 'ServerlessStateMachine',
        Dimensions: [['service', 'stage']],
        Metrics: [{ Name: 'Retries', Unit: 'Count' }],
      },
    ]);
    expect(parsed?.document).to.include({ service: 'serverless-statemachine', stage: 'local', Retries: 1 });
    expect(parseEmf('{"level":"INFO"}')).to.equal(undefined);
  });
});

describe('the metrics line (reportMetrics)', () => {
  /** A stream like process.stdout, keeping what reaches it. */
  function stdout() {
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString());
        done();
      },
    });
    return { stream, written };
  }

  it('folds the EMF lines written to the stream, passing everything through, and prints only when they changed', () => {
    const { stream, written } = stdout();
    const printed: string[] = [];
    const reporter = reportMetrics(stream, { intervalMs: 0, print: (line) => printed.push(line) });
    reporter.tick();
    expect(printed).to.deep.equal([]);

    const line = `${emf({ MachinesStarted: 1 })}\n`;
    stream.write(line);
    stream.write('{"level":"INFO","message":"step"}\n');
    // A line may come in pieces.
    stream.write(Buffer.from(line.slice(0, 40)));
    stream.write(`${line.slice(40)}${emf({ MachinesFailed: 1 })}\n`);
    expect(written.join('')).to.equal(
      `${line}{"level":"INFO","message":"step"}\n${line}${emf({ MachinesFailed: 1 })}\n`,
    );
    reporter.tick();
    reporter.tick();
    expect(printed).to.deep.equal(['metrics: MachinesFailed 1, MachinesStarted 2']);

    stream.write(`${emf({ MachinesStarted: 1 })}\n`);
    reporter.stop();
    expect(printed).to.deep.equal([
      'metrics: MachinesFailed 1, MachinesStarted 2',
      'metrics: MachinesFailed 1, MachinesStarted 3',
    ]);
    // Stopped: the stream's own write is back and nothing more is folded.
    expect(Object.hasOwn(stream, 'write')).to.equal(false);
    stream.write(`${emf({ MachinesStarted: 1 })}\n`);
    expect(reporter.summary().metrics.MachinesStarted?.sum).to.equal(3);
  });

  it('prints on its interval while metrics keep coming', async () => {
    const { stream } = stdout();
    const printed: string[] = [];
    const reporter = reportMetrics(stream, { intervalMs: 20, print: (line) => printed.push(line) });
    try {
      stream.write(`${emf({ Retries: 1 })}\n`);
      const deadline = Date.now() + 5000;
      while (printed.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(printed).to.deep.equal(['metrics: Retries 1']);
    } finally {
      reporter.stop();
    }
  });
});
