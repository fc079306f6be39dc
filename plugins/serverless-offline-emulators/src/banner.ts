import { LOCAL_CREDENTIALS } from './credentials';
import { apiAuthLine } from './httpFront';
import type { Settings } from './options';
import type { SqsEventSource } from './service';
import type { StackInfo } from './stackInfo';

/** The lines under "<service> is running": each endpoint and what serves it. */
export function bannerLines(
  settings: Settings,
  info: Pick<StackInfo, 'endpoints' | 'tables'>,
  queueNames: string[],
  sources: SqsEventSource[],
  restored: number,
): string[] {
  const { endpoints } = info;
  const stored = settings.persist ? `data in ${settings.dataDir}` : 'in memory';
  const sourcesText = sources
    .map((s) => `${s.functionKey} <- ${s.queueName} (${s.maximumConcurrency ?? settings.pollers} at once)`)
    .join(', ');
  return [
    `  API        ${endpoints.http}`,
    `  Auth       ${apiAuthLine(settings.apiAuth, settings.region, LOCAL_CREDENTIALS)}`,
    `  CORS       ${settings.corsOrigins.length > 0 ? `for ${settings.corsOrigins.join(', ')} only` : 'none, as the deployed API (--corsOrigins lists origins whose pages may call it)'}`,
    `  DynamoDB   ${endpoints.dynamodb} (dynalite, ${stored}; tables ${info.tables.join(', ')}${settings.unprocessedTries ? `; every batch left unprocessed ${settings.unprocessedTries}x first` : ''})`,
    `  SQS        ${endpoints.sqs} (local-aws-sqs; queues ${queueNames.join(', ')}${restored ? `; ${restored} message(s) restored` : ''})`,
    `  Lambda     ${endpoints.lambda} (serverless-offline; names, ARNs and partial ARNs${settings.invokeConcurrency ? `; ${settings.invokeConcurrency} concurrent invokes per function` : ''})`,
    ...(sourcesText ? [`  Triggers   ${sourcesText}`] : []),
    ...(settings.requestLog ? [`  Requests   logged to ${settings.requestLog}`] : []),
    `  Metrics    ${settings.metricsIntervalMs > 0 ? `the functions' EMF metrics summed up every ${settings.metricsIntervalMs / 1000} s when they change` : 'not summed up (--metricsInterval 0)'}`,
  ];
}

/** What `sls offline start` prints once everything is up. */
export function readyText(options: {
  service: string;
  startedAt: number;
  banner: string[];
  readyMessage: string | undefined;
  apiUrl: string;
}): string {
  const extra = options.readyMessage
    ? ['', ...String(options.readyMessage).replaceAll('{api}', options.apiUrl).trimEnd().split('\n')]
    : [];
  return [
    '',
    `${options.service} is running (ready in ${((Date.now() - options.startedAt) / 1000).toFixed(1)} s)`,
    '',
    ...options.banner,
    ...extra,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
