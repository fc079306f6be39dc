/**
 * Folds CloudWatch Embedded Metric Format lines (what Powertools Metrics writes to a function's
 * stdout) into a summary per metric: the local stack shows it (serverless-offline runs the
 * handlers in process, so their EMF lines are on its stdout) and `fsm stats` can print it.
 * Pure: feed it lines, get a new summary; anything that is not an EMF line is counted and skipped.
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

interface EmfDirective {
  Namespace?: unknown;
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
function parseEmf(line: string): { directives: EmfDirective[]; document: Record<string, unknown> } | undefined {
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

/** One line per metric: counts as totals, durations as count / average / max. */
export function formatEmfSummary(summary: EmfSummary): string {
  const names = Object.keys(summary.metrics).sort();
  if (names.length === 0) return 'metrics: none yet';
  const rows = names.map((name) => {
    const m = summary.metrics[name] as MetricTotals;
    if (m.unit === 'Count') return `  ${name.padEnd(22)} ${m.sum}`;
    const unit = m.unit === 'Milliseconds' ? 'ms' : ` ${m.unit}`;
    return `  ${name.padEnd(22)} n=${m.count} avg=${Math.round(m.sum / m.count)}${unit} max=${m.max}${unit}`;
  });
  return ['metrics:', ...rows].join('\n');
}
