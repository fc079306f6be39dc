/**
 * Folds CloudWatch Embedded Metric Format lines (what Powertools Metrics, or any EMF library,
 * writes to a function's stdout) into a summary per metric. serverless-offline runs the handlers in
 * its own process, so their EMF lines are on its stdout: the plugin taps it and prints the summary
 * as one line when it changed (reportMetrics), so a developer sees the metrics without AWS.
 * The fold is pure: feed it lines, get a new summary; anything that is not an EMF line is counted and skipped.
 *
 *   let summary = emptyEmfSummary();
 *   for (const line of lines) summary = foldEmfLine(summary, line);
 *   console.log(formatEmfSummary(summary));
 */

export interface MetricTotals {
  unit: string;
  /** Values seen (an EMF line may carry several of one metric). */
  count: number;
  sum: number;
  min: number;
  max: number;
}

export interface EmfSummary {
  /** EMF lines folded in. */
  lines: number;
  /** Other lines (logs, text) passed over. */
  skipped: number;
  /** By metric name (all namespaces and dimension values together). */
  metrics: Record<string, MetricTotals>;
}

/** One entry of `_aws.CloudWatchMetrics`, as written (not validated). */
export interface EmfDirective {
  Namespace?: unknown;
  Dimensions?: unknown;
  Metrics?: unknown;
}

export function emptyEmfSummary(): EmfSummary {
  return { lines: 0, skipped: 0, metrics: {} };
}

function numbers(value: unknown): number[] {
  const values = Array.isArray(value) ? value : [value];
  return values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
}

/** The EMF document on `line`, which may carry a prefix (a timestamp, a function name) before its JSON. */
export function parseEmf(line: string): { directives: EmfDirective[]; document: Record<string, unknown> } | undefined {
  const start = line.indexOf('{');
  if (start < 0 || !line.includes('"_aws"')) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(line.slice(start));
  } catch {
    return undefined;
  }
  if (document === null || typeof document !== 'object') return undefined;
  const aws = (document as { _aws?: { CloudWatchMetrics?: unknown } })._aws;
  if (!aws || !Array.isArray(aws.CloudWatchMetrics)) return undefined;
  return { directives: aws.CloudWatchMetrics as EmfDirective[], document: document as Record<string, unknown> };
}

/** `summary` with `line` folded in; `summary` itself is not changed. */
export function foldEmfLine(summary: EmfSummary, line: string): EmfSummary {
  const emf = parseEmf(line);
  if (!emf) return { ...summary, skipped: summary.skipped + 1 };
  const metrics = { ...summary.metrics };
  for (const directive of emf.directives) {
    if (!Array.isArray(directive.Metrics)) continue;
    for (const definition of directive.Metrics as { Name?: unknown; Unit?: unknown }[]) {
      if (typeof definition?.Name !== 'string') continue;
      const values = numbers(emf.document[definition.Name]);
      if (values.length === 0) continue;
      const previous = metrics[definition.Name];
      metrics[definition.Name] = {
        unit: typeof definition.Unit === 'string' ? definition.Unit : (previous?.unit ?? 'None'),
        count: (previous?.count ?? 0) + values.length,
        sum: (previous?.sum ?? 0) + values.reduce((a, b) => a + b, 0),
        min: Math.min(previous?.min ?? Number.POSITIVE_INFINITY, ...values),
        max: Math.max(previous?.max ?? Number.NEGATIVE_INFINITY, ...values),
      };
    }
  }
  return { lines: summary.lines + 1, skipped: summary.skipped, metrics };
}

/** Every line of `text` (or of several chunks) folded into one summary. */
export function summarizeEmf(lines: Iterable<string>, start: EmfSummary = emptyEmfSummary()): EmfSummary {
  let summary = start;
  for (const chunk of lines) {
    for (const line of chunk.split('\n')) if (line.trim()) summary = foldEmfLine(summary, line);
  }
  return summary;
}

/** One line: counts as totals, durations (any other unit) as count / average / max; by name. */
export function formatEmfSummary(summary: EmfSummary): string {
  const names = Object.keys(summary.metrics).sort();
  if (names.length === 0) return 'metrics: none yet';
  const parts = names.map((name) => {
    const m = summary.metrics[name] as MetricTotals;
    if (m.unit === 'Count') return `${name} ${m.sum}`;
    const unit = m.unit === 'Milliseconds' ? 'ms' : ` ${m.unit}`;
    return `${name} n=${m.count} avg=${Math.round(m.sum / m.count)}${unit} max=${m.max}${unit}`;
  });
  return `metrics: ${parts.join(', ')}`;
}

/** Longest partial line kept while waiting for its end; a longer one is dropped (it is no EMF line of ours). */
const MAX_PARTIAL_LINE = 1024 * 1024;

export interface MetricsReporter {
  /** The totals so far. */
  summary(): EmfSummary;
  /** Prints the summary if it changed since the last print (the interval calls it). */
  tick(): void;
  /** Stops the interval and the tap, after a last tick. */
  stop(): void;
}

/**
 * Taps `stream` (the functions' stdout) and folds every EMF line written to it; every `intervalMs`
 * (0: only when stopped) prints the summary line when new metrics came in. What is written passes
 * through unchanged.
 */
export function reportMetrics(
  stream: NodeJS.WritableStream,
  options: { intervalMs: number; print: (line: string) => void },
): MetricsReporter {
  let summary = emptyEmfSummary();
  let printed = 0;
  let partial = '';
  let tapping = true;
  const observe = (chunk: unknown) => {
    if (!tapping) return;
    const text = typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString() : '';
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    if (partial.length > MAX_PARTIAL_LINE) partial = '';
    for (const line of lines) if (line.includes('"_aws"')) summary = foldEmfLine(summary, line);
  };
  const hadOwnWrite = Object.hasOwn(stream, 'write');
  const original = stream.write;
  const tapped = function (this: unknown, chunk: unknown, ...rest: unknown[]) {
    observe(chunk);
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof stream.write;
  stream.write = tapped;
  const tick = () => {
    if (summary.lines === printed) return;
    printed = summary.lines;
    options.print(formatEmfSummary(summary));
  };
  const timer = options.intervalMs > 0 ? setInterval(tick, options.intervalMs).unref() : undefined;
  return {
    summary: () => summary,
    tick,
    stop() {
      if (!tapping) return;
      clearInterval(timer);
      tick();
      tapping = false;
      // Another tap may have wrapped ours since: then ours stays, passing everything through.
      if (stream.write === tapped) {
        if (hadOwnWrite) stream.write = original;
        else delete (stream as { write?: unknown }).write;
      }
    },
  };
}
