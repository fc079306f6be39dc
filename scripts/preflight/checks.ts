import { createResolver } from '../../plugins/serverless-offline-emulators/src/cloudformation';
import { type Call, simulateCalls } from '../../tests/helpers/iamSimulation';
import { FUNCTION_CALLS, type Target } from './calls';
import type { LintResult } from './cfnLint';
import type { Template } from './package';

/** One line of the preflight's table. A BREAKER makes the preflight exit non-zero. */
export interface Row {
  check: string;
  item: string;
  result: 'ok' | 'BREAKER' | 'warn' | 'info';
  detail: string;
}

type Resources = Template['Resources'];
interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: {
    Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] };
    Stat: string;
    Period: number;
  };
}
interface PolicyStatement {
  Effect: string;
  Action?: unknown;
  Resource?: unknown;
  Principal?: { Service?: unknown };
}
type Resource = Resources[string];

/** A role's statements, from its inline policies. */
const statementsOf = (role: Resource['Properties'] | undefined): PolicyStatement[] =>
  ((role?.Policies ?? []) as { PolicyDocument: { Statement: unknown } }[]).flatMap(
    (p) => [p.PolicyDocument.Statement].flat() as PolicyStatement[],
  );

/** The stage whose API may be open (resources/http-api.js). */
const OPEN_STAGE = 'local';
/** AWS's advice for a queue a Lambda function consumes: a visibility timeout of 6 x the function's timeout. */
const VISIBILITY_PER_TIMEOUT = 6;
/** Lambda's default timeout, for a function that sets none. */
const LAMBDA_DEFAULT_TIMEOUT = 3;
const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

const ofType = (resources: Resources, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const getAttOf = (value: unknown): string | undefined => (value as { 'Fn::GetAtt'?: [string] })?.['Fn::GetAtt']?.[0];
const refOf = (value: unknown): string | undefined => (value as { Ref?: string })?.Ref;
const list = (value: unknown): unknown[] => (value === undefined ? [] : [value].flat());

/** Each function's key (its name without the `<service>-<stage>-` prefix) by logical id. */
function functionKeys(resources: Resources): Map<string, string> {
  const keys = new Map<string, string>();
  for (const [id, fn] of ofType(resources, 'AWS::Lambda::Function')) {
    const name = String(fn.Properties.FunctionName ?? id);
    const prefix = String(fn.Properties.Environment?.Variables?.SERVICE_PREFIX ?? '');
    keys.set(id, prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name);
  }
  return keys;
}

export function lintRows(lint: LintResult): Row[] {
  const rows: Row[] = [{ check: 'cfn-lint', item: 'linter', result: 'info', detail: lint.linter }];
  for (const f of lint.findings.filter((f) => f.level === 'Error')) {
    rows.push({ check: 'cfn-lint', item: f.rule, result: 'BREAKER', detail: `${f.path}: ${f.message}` });
  }
  const others = new Map<string, { count: number; first: string }>();
  for (const f of lint.findings.filter((f) => f.level !== 'Error')) {
    const seen = others.get(f.rule) ?? { count: 0, first: `${f.level}: ${f.message}` };
    seen.count += 1;
    others.set(f.rule, seen);
  }
  for (const [rule, { count, first }] of others) {
    rows.push({ check: 'cfn-lint', item: rule, result: 'warn', detail: `${count}x, e.g. ${first}` });
  }
  if (lint.findings.length === 0) rows.push({ check: 'cfn-lint', item: 'findings', result: 'ok', detail: 'none' });
  return rows;
}

export function routeRows(resources: Resources, stage: string): Row[] {
  const routes = ofType(resources, 'AWS::ApiGatewayV2::Route');
  if (routes.length === 0) return [{ check: 'routes x auth', item: '(none)', result: 'BREAKER', detail: 'no route' }];
  return routes.map(([, route]) => {
    const auth = String(route.Properties.AuthorizationType ?? 'NONE');
    const open = auth === 'NONE';
    return {
      check: 'routes x auth',
      item: String(route.Properties.RouteKey),
      result: open && stage !== OPEN_STAGE ? 'BREAKER' : 'ok',
      detail: open ? `NONE: open to anyone (apiAuth none is for the ${OPEN_STAGE} stage only)` : auth,
    };
  });
}

/** What an alarm watches, in one line. */
function watches(alarm: Resource['Properties']): string[] {
  const condition = `${alarm.ComparisonOperator} ${alarm.Threshold}`;
  if (alarm.MetricName) {
    return [
      `${alarm.Namespace}/${alarm.MetricName}`,
      `${alarm.Statistic} per ${alarm.Period}s ${condition} (${alarm.EvaluationPeriods} period)`,
    ];
  }
  const metrics = (alarm.Metrics ?? []) as MetricQuery[];
  const expression = metrics.find((m) => m.Expression)?.Expression ?? '';
  const parts = metrics
    .flatMap(({ Id, MetricStat: stat }) => (stat ? [{ Id, stat }] : []))
    .map(({ Id, stat }) => {
      const dim = stat.Metric.Dimensions?.find((d) => d.Name === 'FunctionName')?.Value;
      const fn = refOf(dim) ? `(${refOf(dim)})` : '';
      return `${Id}=${stat.Metric.Namespace}/${stat.Metric.MetricName}${fn} ${stat.Stat}/${stat.Period}s`;
    });
  return [`${expression}: ${parts.join(', ')}`, `${condition} (${alarm.EvaluationPeriods} period)`];
}

const metricNames = (alarm: Resource['Properties']): string[] => [
  ...(alarm.MetricName ? [alarm.MetricName as string] : []),
  ...((alarm.Metrics ?? []) as MetricQuery[]).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : [])),
];

export function alarmRows(resources: Resources): Row[] {
  const alarms = ofType(resources, 'AWS::CloudWatch::Alarm');
  const rows: Row[] = alarms.map(([id, { Properties }]) => ({
    check: 'alarms',
    item: id,
    result: 'ok',
    detail: watches(Properties).join('; '),
  }));
  const deadLettered = alarms.find(
    ([, { Properties: p }]) =>
      p.MetricName === 'DeadLettered' &&
      p.Statistic === 'Sum' &&
      ((p.ComparisonOperator === 'GreaterThanOrEqualToThreshold' && Number(p.Threshold) <= 1) ||
        (p.ComparisonOperator === 'GreaterThanThreshold' && Number(p.Threshold) < 1)),
  );
  if (!deadLettered) {
    rows.push({
      check: 'alarms',
      item: 'dead letters',
      result: 'BREAKER',
      detail: 'no alarm on the DeadLettered metric (Sum >= 1): a dead-lettered step would alert nobody',
    });
  }
  if (!alarms.some(([, { Properties }]) => metricNames(Properties).includes('RecordsFailed'))) {
    rows.push({
      check: 'alarms',
      item: 'record failures',
      result: 'BREAKER',
      detail: "no alarm on RecordsFailed: Lambda's Errors misses batches in which only some records failed",
    });
  }
  return rows;
}

/** Whether a key policy lets CloudWatch encrypt for the topic (kms:Decrypt and kms:GenerateDataKey*). */
function grantsCloudWatch(policy: { Statement?: unknown } | undefined): boolean {
  const granted = new Set<string>();
  for (const s of list(policy?.Statement) as PolicyStatement[]) {
    if (s.Effect !== 'Allow') continue;
    if (!list(s.Principal?.Service).includes('cloudwatch.amazonaws.com')) continue;
    for (const action of list(s.Action)) granted.add(String(action));
  }
  return (
    (granted.has('kms:Decrypt') || granted.has('kms:*')) &&
    ['kms:GenerateDataKey*', 'kms:GenerateDataKey', 'kms:*'].some((a) => granted.has(a))
  );
}

export function topicRows(resources: Resources): Row[] {
  const topics = ofType(resources, 'AWS::SNS::Topic');
  if (topics.length === 0) {
    return [
      {
        check: 'alarm topic',
        item: '(none)',
        result: 'info',
        detail: 'no alarmEmail: alarms change state and mail nobody',
      },
    ];
  }
  return topics.map(([id, topic]) => {
    const key = topic.Properties.KmsMasterKeyId;
    const row = { check: 'alarm topic', item: topic.Condition ? `${id} (if ${topic.Condition})` : id };
    if (key === undefined) return { ...row, result: 'warn', detail: 'not encrypted (CloudWatch can publish)' };
    if (typeof key === 'string') {
      return {
        ...row,
        result: 'BREAKER',
        detail: `${key}: an AWS-managed key's policy cannot grant CloudWatch, so no alarm reaches the topic`,
      };
    }
    const keyId = refOf(key) ?? getAttOf(key);
    const policy = keyId ? resources[keyId]?.Properties?.KeyPolicy : undefined;
    return grantsCloudWatch(policy)
      ? {
          ...row,
          result: 'ok',
          detail: `${keyId}: key policy grants cloudwatch.amazonaws.com kms:Decrypt, kms:GenerateDataKey*`,
        }
      : { ...row, result: 'BREAKER', detail: `${keyId ?? JSON.stringify(key)}: key policy does not grant CloudWatch` };
  }) as Row[];
}

export function concurrencyRows(resources: Resources): Row[] {
  const keys = functionKeys(resources);
  const rows: Row[] = [];
  for (const [, mapping] of ofType(resources, 'AWS::Lambda::EventSourceMapping')) {
    const fnId = getAttOf(mapping.Properties.FunctionName) ?? '';
    const queueId = getAttOf(mapping.Properties.EventSourceArn) ?? '';
    const cap = mapping.Properties.ScalingConfig?.MaximumConcurrency;
    rows.push({
      check: 'concurrency',
      item: `${keys.get(fnId) ?? fnId} <- ${queueId}`,
      result: cap ? 'ok' : 'BREAKER',
      detail: cap
        ? `maximumConcurrency ${cap}, batch ${mapping.Properties.BatchSize ?? 10}`
        : "no maximumConcurrency: a backlog can take the account's whole Lambda concurrency",
    });
    const timeout = Number(resources[fnId]?.Properties.Timeout ?? LAMBDA_DEFAULT_TIMEOUT);
    const visibility = Number(resources[queueId]?.Properties.VisibilityTimeout ?? 30);
    rows.push({
      check: 'queues',
      item: `${queueId} visibility`,
      result: visibility >= VISIBILITY_PER_TIMEOUT * timeout ? 'ok' : 'BREAKER',
      detail: `${visibility}s for a consumer of ${timeout}s (AWS: at least ${VISIBILITY_PER_TIMEOUT}x)`,
    });
  }
  const reserved = ofType(resources, 'AWS::Lambda::Function')
    .filter(([, fn]) => fn.Properties.ReservedConcurrentExecutions !== undefined)
    .map(([id, fn]) => `${keys.get(id)} ${fn.Properties.ReservedConcurrentExecutions}`);
  rows.push({
    check: 'concurrency',
    item: 'reserved',
    result: 'info',
    detail: reserved.length > 0 ? reserved.join(', ') : 'none (param apiReservedConcurrency empty): the account pool',
  });
  return rows;
}

export function retentionRows(resources: Resources): Row[] {
  const rows: Row[] = [];
  const groups = ofType(resources, 'AWS::Logs::LogGroup');
  const byDays = new Map<string, string[]>();
  for (const [id, group] of groups) {
    const days = String(group.Properties.RetentionInDays ?? 'never expire');
    byDays.set(days, [...(byDays.get(days) ?? []), id]);
  }
  for (const [days, ids] of byDays) {
    rows.push({
      check: 'retention',
      item: `${ids.length} log group${ids.length === 1 ? '' : 's'}`,
      result: days === 'never expire' ? 'BREAKER' : 'ok',
      detail: days === 'never expire' ? `no retention: ${ids.join(', ')}` : `${days} days`,
    });
  }
  const [, stage] = ofType(resources, 'AWS::ApiGatewayV2::Stage')[0] ?? [];
  const access = stage?.Properties.AccessLogSettings;
  const fields = access ? Object.keys(JSON.parse(access.Format)) : [];
  const needed = ['requestId', 'caller', 'jwtSubject', 'routeKey', 'status', 'latencyMs'];
  const missing = needed.filter((field) => !fields.includes(field));
  rows.push({
    check: 'retention',
    item: 'API access logs',
    result: access && missing.length === 0 ? 'ok' : 'BREAKER',
    detail: access
      ? `${getAttOf(access.DestinationArn)}: ${fields.join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}`
      : 'none: nobody can tell who called',
  });
  return rows;
}

/** The state functions the processor may invoke: the allow-list, and the processor role's invoke statement. */
export function stateFunctionRows(resources: Resources): Row[] {
  const processor = resources.TransitionLambdaFunction;
  const allowList = String(processor?.Properties.Environment?.Variables?.ALLOWED_FUNCTIONS ?? '')
    .split(',')
    .filter(Boolean);
  const role = resources[getAttOf(processor?.Properties.Role) ?? '']?.Properties;
  const invoke = statementsOf(role).filter((s) => list(s.Action).includes('lambda:InvokeFunction'));
  return [
    {
      check: 'state functions',
      item: 'allow-list',
      result: 'info',
      detail: allowList.length > 0 ? allowList.join(', ') : 'none: machines can name no function',
    },
    {
      check: 'state functions',
      item: 'processor invoke',
      result: 'info',
      detail: invoke.map((s) => `${s.Effect} ${list(s.Resource).length} resource(s)`).join('; ') || 'none',
    },
  ];
}

/**
 * Each function's role against the calls its code makes (scripts/preflight/calls.ts), through the
 * project's IAM simulation (tests/helpers/iamSimulation.ts), the template's ARNs resolved in a
 * stand-in account.
 */
export async function iamRows(resources: Resources, stage: string): Promise<Row[]> {
  const keys = functionKeys(resources);
  const names = Object.fromEntries(
    ofType(resources, 'AWS::Lambda::Function').map(([id, fn]) => [id, String(fn.Properties.FunctionName ?? id)]),
  );
  const resolver = createResolver(
    { Resources: resources },
    { region: REGION, accountId: ACCOUNT, stackName: `preflight-${stage}`, sqsUrl: 'https://sqs', functions: names },
  );
  const arn = (value: unknown) => String(resolver.resolve(value));
  const allowList = String(
    resources.TransitionLambdaFunction?.Properties.Environment?.Variables?.ALLOWED_FUNCTIONS ?? '',
  )
    .split(',')
    .filter(Boolean);
  const machines = resources.MachinesTable ? arn({ 'Fn::GetAtt': ['MachinesTable', 'Arn'] }) : '';
  const targets: Record<Target, string[]> = {
    machines: [machines],
    statusIndex: [`${machines}/index/byStatusShard`],
    dueIndex: [`${machines}/index/byDueBucket`],
    history: resources.HistoryTable ? [arn({ 'Fn::GetAtt': ['HistoryTable', 'Arn'] })] : [],
    transitionQueue: resources.TransitionQueue ? [arn({ 'Fn::GetAtt': ['TransitionQueue', 'Arn'] })] : [],
    stateFunctions: allowList
      .filter((name) => !name.includes('*'))
      .map((name) => (name.startsWith('arn:') ? name : `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`)),
  };
  const stateFunctions = new Set(allowList);
  const rows: Row[] = [];
  for (const [id, fn] of ofType(resources, 'AWS::Lambda::Function')) {
    const key = keys.get(id) as string;
    const role = resources[getAttOf(fn.Properties.Role) ?? '']?.Properties;
    const statements = statementsOf(role).map((s) => ({
      ...s,
      Resource: list(s.Resource).map((r) => {
        try {
          return arn(r);
        } catch {
          return JSON.stringify(r);
        }
      }),
    }));
    const row = { check: 'iam', item: key };
    const expected = FUNCTION_CALLS[key];
    if (!expected) {
      const actions = statements.flatMap((s) => list(s.Action).map(String));
      const onlyLogs = actions.every((a: string) => /^(logs|xray):/.test(a));
      rows.push(
        stateFunctions.has(String(fn.Properties.FunctionName)) && onlyLogs
          ? { ...row, result: 'ok', detail: 'state function: logs and X-Ray only' }
          : { ...row, result: 'warn', detail: 'no list of its calls in scripts/preflight/calls.ts' },
      );
      continue;
    }
    const calls: Call[] = Object.entries(expected).flatMap(([target, actions]) =>
      (targets[target as Target] ?? []).flatMap((resource) =>
        (actions ?? []).map((action) => ({ function: key, action, resource, count: 1 })),
      ),
    );
    const report = await simulateCalls(
      calls,
      { [key]: statements as Parameters<typeof simulateCalls>[1][string] },
      {
        accountId: ACCOUNT,
      },
    );
    const short = (text: string) => text.replace(/arn:aws:[a-z-]+:[a-z0-9-]*:\d*:/g, '');
    rows.push(
      report.denied.length > 0
        ? {
            ...row,
            result: 'BREAKER',
            detail: `denied: ${report.denied.map((d) => `${d.action} on ${short(d.resource)}`).join(', ')}`,
          }
        : { ...row, result: 'ok', detail: `${calls.length} calls allowed` },
    );
  }
  return rows;
}

/** Every check over a packaged template, cfn-lint's findings first. */
export async function preflightRows(template: Template, stage: string, lint: LintResult): Promise<Row[]> {
  const resources = template.Resources;
  return [
    ...lintRows(lint),
    ...routeRows(resources, stage),
    ...(await iamRows(resources, stage)),
    ...alarmRows(resources),
    ...topicRows(resources),
    ...concurrencyRows(resources),
    ...retentionRows(resources),
    ...stateFunctionRows(resources),
  ];
}
