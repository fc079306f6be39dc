import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { validateFile, validateJsonObject } from 'cfn-lint';
import { expect } from 'chai';
import { extract, type FunctionBundle, functionBundles, MAX_ZIP_BYTES } from '../../../bench/bundles';
import { DEFAULT_STATUS_SHARDS } from '../../../domain/limits';
import { ACCESS_LOG } from '../../../resources/http-api';
import { npmCfnLintErrors as cfnLintErrors } from '../../../scripts/preflight/cfnLint';
import { preflightRows, type Row } from '../../../scripts/preflight/checks';
import { packageStage, type Template } from '../../../scripts/preflight/package';
import { queueNames, SERVICE, tableNames } from '../../helpers/localStack';

const run = promisify(execFile);

/** The preflight's breakers over a template (cfn-lint aside: the test below runs it). */
async function breakers(template: Template, stage: string): Promise<string[]> {
  const rows = await preflightRows(template, stage, { linter: 'none', findings: [] });
  return rows.filter((row: Row) => row.result === 'BREAKER').map((row) => `${row.check}: ${row.item}: ${row.detail}`);
}

/**
 * A copy of `template` with each old mistake of issue 29: the topic under the AWS-managed key,
 * no maximumConcurrency on the triggers, and every route open, as `--aws-profile offline` once
 * packaged them (any word `offline` of the command line turned the authorizers off).
 */
function withOldMistakes(template: Template): Template {
  const broken = structuredClone(template);
  for (const resource of Object.values(broken.Resources)) {
    if (resource.Type === 'AWS::SNS::Topic') resource.Properties.KmsMasterKeyId = 'alias/aws/sns';
    if (resource.Type === 'AWS::Lambda::EventSourceMapping') delete resource.Properties.ScalingConfig;
    if (resource.Type === 'AWS::ApiGatewayV2::Route') resource.Properties.AuthorizationType = 'NONE';
  }
  return broken;
}

const functionsOf = (template: Template) =>
  Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');

/** The statements of `role` that grant or deny `lambda:InvokeFunction`. */
function invokeStatements(template: Template, role: string): { Effect: string; Resource: unknown }[] {
  const statements = template.Resources[role]?.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
  return statements.filter((s: any) => [s.Action].flat().includes('lambda:InvokeFunction'));
}

/** A resource ARN as text, with each pseudo-parameter left as `${AWS::...}` (Ref and Fn::Join, as the template writes them, or Fn::Sub). */
function arnText(value: any): string {
  if (typeof value === 'string') return value;
  if (typeof value?.Ref === 'string') return `\${${value.Ref}}`;
  if (typeof value?.['Fn::Sub'] === 'string') return value['Fn::Sub'];
  if (Array.isArray(value?.['Fn::Join'])) {
    const [delimiter, parts] = value['Fn::Join'];
    return parts.map(arnText).join(delimiter);
  }
  throw new Error(`not an ARN: ${JSON.stringify(value)}`);
}

/** A Lambda function's ARN in the stack's own partition, region and account. */
const functionArn = (name: string) =>
  `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${name}`;

describe('the Serverless project', function () {
  this.timeout(120_000);

  describe('sls package --stage prod', () => {
    let template: Template;
    let outDir: string;
    let templateFile: string;
    let leftInTmp: string[];
    let remove: () => Promise<void>;

    before(async () => {
      ({ template, outDir, file: templateFile, leftInTmp, remove } = await packageStage('prod'));
    });

    after(async () => {
      await remove?.();
    });

    const ofType = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type);

    it('has on-demand tables with point-in-time recovery, encryption, TTL and deletion protection', () => {
      const tables = ofType('AWS::DynamoDB::Table');
      expect(tables.map((t) => t.Properties.TableName)).to.have.members(Object.values(tableNames('prod')));
      for (const { Properties } of tables) {
        expect(Properties.BillingMode).to.equal('PAY_PER_REQUEST');
        expect(Properties.PointInTimeRecoverySpecification).to.deep.equal({ PointInTimeRecoveryEnabled: true });
        expect(Properties.SSESpecification).to.deep.equal({ SSEEnabled: true });
        expect(Properties.TimeToLiveSpecification).to.deep.equal({ AttributeName: 'expiresAt', Enabled: true });
        expect(Properties.DeletionProtectionEnabled).to.equal(true);
      }
    });

    it('lists machines through a keys-only status index, sharded per status', () => {
      const machines = template.Resources.MachinesTable?.Properties;
      expect(machines.GlobalSecondaryIndexes).to.deep.equal([
        {
          IndexName: 'byStatusShard',
          KeySchema: [
            { AttributeName: 'statusShard', KeyType: 'HASH' },
            { AttributeName: 'createdKey', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
        {
          IndexName: 'byDueBucket',
          KeySchema: [
            { AttributeName: 'statusShard', KeyType: 'HASH' },
            { AttributeName: 'dueBucket', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ]);
      const env = template.Resources.ListMachinesLambdaFunction?.Properties.Environment.Variables;
      expect(env.STATUS_SHARDS).to.equal(String(DEFAULT_STATUS_SHARDS));
    });

    it('redrives the transition queue to the dead-letter queue, with a visibility timeout of at least 6 x the processor timeout', () => {
      const queue = template.Resources.TransitionQueue?.Properties;
      const processor = template.Resources.TransitionLambdaFunction?.Properties;
      expect(queue.QueueName).to.equal(queueNames('prod').transitions);
      expect(template.Resources.DeadLetterQueue?.Properties.QueueName).to.equal(queueNames('prod').deadLetters);
      expect(queue.RedrivePolicy.deadLetterTargetArn).to.deep.equal({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] });
      expect(queue.RedrivePolicy.maxReceiveCount).to.be.within(1, 10);
      expect(Number(queue.VisibilityTimeout)).to.be.at.least(6 * Number(processor.Timeout));
      // Its own consumer's too (AWS's advice, not SQS's default 30 s).
      const deadLetters = template.Resources.DeadLetterQueue?.Properties;
      const consumer = template.Resources.DeadLettersLambdaFunction?.Properties;
      expect(Number(deadLetters.VisibilityTimeout)).to.be.at.least(6 * Number(consumer.Timeout));
    });

    it('keeps steps 14 days, the longest SQS allows, so an outage of days loses none', () => {
      expect(template.Resources.TransitionQueue?.Properties.MessageRetentionPeriod).to.equal(1209600);
      expect(template.Resources.DeadLetterQueue?.Properties.MessageRetentionPeriod).to.equal(1209600);
    });

    it("lets the processor send to the queue that triggers it past Lambda's recursive loop detection", () => {
      expect(template.Resources.TransitionLambdaFunction?.Properties.RecursiveLoop).to.equal('Allow');
      const others = ofType('AWS::Lambda::Function').filter((f) => f.Properties.RecursiveLoop === 'Allow');
      expect(others).to.have.length(1);
    });

    it('consumes the dead-letter queue with a function that fails the machines whose step died', () => {
      const mappings = ofType('AWS::Lambda::EventSourceMapping').map((m) => m.Properties);
      expect(mappings.map((m) => [m.EventSourceArn, m.FunctionName])).to.have.deep.members([
        [{ 'Fn::GetAtt': ['TransitionQueue', 'Arn'] }, { 'Fn::GetAtt': ['TransitionLambdaFunction', 'Arn'] }],
        [{ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }, { 'Fn::GetAtt': ['DeadLettersLambdaFunction', 'Arn'] }],
      ]);
    });

    it('reports batch item failures from the queue consumers and uses no emulator endpoints', () => {
      for (const mapping of ofType('AWS::Lambda::EventSourceMapping')) {
        expect(mapping.Properties.FunctionResponseTypes).to.deep.equal(['ReportBatchItemFailures']);
      }
      const env = template.Resources.TransitionLambdaFunction?.Properties.Environment.Variables;
      expect(env).to.include({ DYNAMODB_ENDPOINT: '', SQS_ENDPOINT: '', LAMBDA_ENDPOINT: '' });
      expect(env.QUEUE_URL).to.deep.equal({ Ref: 'TransitionQueue' });
      expect(env.SERVICE_PREFIX).to.equal(`${SERVICE}-prod-`);
    });

    it("drops the framework's default role, which no function uses (it may receive and delete on the queues)", () => {
      expect(template.Resources).not.to.have.property('IamRoleLambdaExecution');
      for (const [id, fn] of functionsOf(template)) expect(fn.Properties.Role['Fn::GetAtt'], id).to.be.an('array');
    });

    it('gives each API function its own role, with no "*" action anywhere', () => {
      const roles = ofType('AWS::IAM::Role');
      expect(roles.length).to.be.at.least(8);
      const statements = roles.flatMap((role) =>
        role.Properties.Policies.flatMap((policy: any) => policy.PolicyDocument.Statement),
      );
      for (const statement of statements) {
        for (const action of [statement.Action].flat()) expect(action, JSON.stringify(statement)).not.to.include('*');
      }
    });

    it('has no state function in prod: the processor may invoke nothing, and the allow-list is empty', () => {
      const invokers = Object.entries(template.Resources).filter(
        ([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties).includes('lambda:InvokeFunction'),
      );
      expect(invokers.map(([name]) => name)).to.deep.equal(['TransitionIamRoleLambdaExecution']);
      expect(invokeStatements(template, 'TransitionIamRoleLambdaExecution')).to.deep.equal([
        { Effect: 'Deny', Action: ['lambda:InvokeFunction'], Resource: '*' },
      ]);
      for (const [, fn] of functionsOf(template)) {
        expect(fn.Properties.Environment.Variables.ALLOWED_FUNCTIONS, fn.Properties.FunctionName).to.equal('');
      }
      // No example function's name anywhere: not as a function, in IAM, or in the allow-list.
      const text = JSON.stringify(template);
      for (const name of ['prepare', 'task-1', 'task-2a', 'task-2b', 'finalize', 'flaky', 'always-fails', 'noop']) {
        expect(text).not.to.include(`${SERVICE}-prod-${name}`);
      }
    });

    it('passes cfn-lint with no error (but what its 2019 specification does not know yet)', () => {
      expect(cfnLintErrors(validateFile(templateFile))).to.deep.equal([]);
      // It does check this template: a misspelt property and a reference to nothing are errors.
      const broken = structuredClone(template);
      (broken.Resources.MachinesTable as any).Properties.BillingMod = 'PAY_PER_REQUEST';
      (broken.Resources.TransitionQueue as any).Properties.RedrivePolicy.deadLetterTargetArn = {
        'Fn::GetAtt': ['NoSuchQueue', 'Arn'],
      };
      expect(cfnLintErrors(validateJsonObject(broken))).to.deep.equal([
        'Resources > TransitionQueue > Properties > RedrivePolicy > deadLetterTargetArn: No resource with logical name of NoSuchQueue!',
        'Resources > MachinesTable > Properties > BillingMod: BillingMod is not a valid property of AWS::DynamoDB::Table',
      ]);
    });

    it('requires IAM (SigV4) auth on every route of the API', () => {
      const routes = ofType('AWS::ApiGatewayV2::Route');
      expect(routes).to.have.length(12);
      for (const route of routes)
        expect(route.Properties.AuthorizationType, route.Properties.RouteKey).to.equal('AWS_IAM');
    });

    it('throttles the API stage', () => {
      const settings = template.Resources.HttpApiStage?.Properties.DefaultRouteSettings;
      expect(settings.ThrottlingRateLimit).to.be.a('number').above(0);
      expect(settings.ThrottlingBurstLimit).to.be.a('number').above(0);
    });

    it('alarms on dead letters, processor errors, throttles, stalled steps, failed machines and lost steps, mailing when asked', () => {
      const alarms = Object.fromEntries(
        Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm'),
      );
      expect(Object.keys(alarms)).to.have.members([
        'DeadLetteredAlarm',
        'ProcessorErrorsAlarm',
        'ThrottlesAlarm',
        'StalledStepsAlarm',
        'FailedMachinesAlarm',
        'OverdueStepsResentAlarm',
      ]);
      // One dead-lettered step is enough: the service's own count, not the queue's visible messages.
      expect(alarms.DeadLetteredAlarm?.Properties).to.include({
        Namespace: 'ServerlessStateMachine',
        MetricName: 'DeadLettered',
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(alarms.StalledStepsAlarm?.Properties).to.include({ MetricName: 'ApproximateAgeOfOldestMessage' });
      expect(alarms.FailedMachinesAlarm?.Properties).to.include({ MetricName: 'MachinesFailed' });
      expect(alarms.OverdueStepsResentAlarm?.Properties).to.include({ MetricName: 'OverdueStepsResent', Threshold: 0 });
      expect(JSON.stringify(alarms.ThrottlesAlarm?.Properties.Metrics)).to.include('Throttles');
      // Every record the consumers report failed, and whole invocations that died.
      const errors = alarms.ProcessorErrorsAlarm?.Properties.Metrics as any[];
      expect(errors.find((m) => m.Expression)?.Expression).to.equal(
        'FILL(records, 0) + FILL(transition, 0) + FILL(deadLetters, 0)',
      );
      expect(errors.find((m) => m.Id === 'records')?.MetricStat.Metric.MetricName).to.equal('RecordsFailed');
      expect(JSON.stringify(errors)).to.include('TransitionLambdaFunction');
      const topic = template.Resources.AlarmTopic as unknown as { Condition: string };
      expect(topic.Condition).to.equal('HasAlarmEmail');
      expect((template as any).Conditions.HasAlarmEmail).to.deep.equal({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] });
    });

    it('encrypts the alarm topic with a key whose policy lets CloudWatch publish (not the AWS-managed alias/aws/sns)', () => {
      const topic = template.Resources.AlarmTopic?.Properties;
      expect(topic.KmsMasterKeyId).to.deep.equal({ Ref: 'AlarmTopicKey' });
      const key = template.Resources.AlarmTopicKey?.Properties;
      const cloudWatch = key.KeyPolicy.Statement.filter(
        (s: any) => s.Effect === 'Allow' && s.Principal?.Service === 'cloudwatch.amazonaws.com',
      );
      expect(cloudWatch.flatMap((s: any) => s.Action)).to.have.members(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(key.EnableKeyRotation).to.equal(true);
    });

    it("caps the processor at processorMaxConcurrency (its trigger's maximumConcurrency), the dead-letter consumer at 2", () => {
      const caps = Object.fromEntries(
        ofType('AWS::Lambda::EventSourceMapping').map((m) => [
          m.Properties.FunctionName['Fn::GetAtt'][0],
          m.Properties.ScalingConfig?.MaximumConcurrency,
        ]),
      );
      expect(caps).to.deep.equal({ TransitionLambdaFunction: 10, DeadLettersLambdaFunction: 2 });
      // Reserved concurrency is the apiReservedConcurrency param's, off by default.
      for (const fn of ofType('AWS::Lambda::Function')) {
        expect(fn.Properties, fn.Properties.FunctionName).not.to.have.property('ReservedConcurrentExecutions');
      }
    });

    it('logs every API request as JSON (caller, route, status, latency, request id) into a log group of the stage retention', () => {
      const access = template.Resources.HttpApiStage?.Properties.AccessLogSettings;
      expect(access.DestinationArn).to.deep.equal({ 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] });
      expect(JSON.parse(access.Format)).to.deep.equal(ACCESS_LOG);
      expect(ACCESS_LOG).to.include({
        caller: '$context.identity.userArn',
        jwtSubject: '$context.authorizer.claims.sub',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        requestId: '$context.requestId',
      });
      expect(template.Resources.HttpApiLogGroup?.Properties.RetentionInDays).to.equal(30);
    });

    it('passes the preflight with no breaker, and the preflight breaks on each old mistake', async () => {
      expect(await breakers(template, 'prod')).to.deep.equal([]);
      const old = await breakers(withOldMistakes(template), 'prod');
      expect(old.filter((b) => b.startsWith('alarm topic: AlarmTopic'))).to.have.length(1);
      expect(old.filter((b) => b.startsWith('concurrency: ') && b.includes('no maximumConcurrency'))).to.have.length(2);
      expect(old.filter((b) => b.startsWith('routes x auth: '))).to.have.length(12);
    });

    it('npm run preflight exits 0 on the shipped template and 1 on a broken copy, printing one table (with either cfn-lint)', async function () {
      this.timeout(120_000);
      const dir = await mkdtemp(join(tmpdir(), 'fsm-preflight-'));
      try {
        const broken = withOldMistakes(template);
        (broken.Resources.MachinesTable as any).Properties.BillingMod = 'PAY_PER_REQUEST';
        const brokenFile = join(dir, 'broken.json');
        await writeFile(brokenFile, JSON.stringify(broken));
        const preflight = (file: string, env: NodeJS.ProcessEnv = process.env) =>
          run(process.execPath, ['--import', 'tsx', 'scripts/preflight.ts', '--stage', 'prod', '--template', file], {
            env,
          }).then(
            ({ stdout }) => ({ code: 0, stdout }),
            (error: { code: number; stdout: string }) => ({ code: error.code, stdout: error.stdout }),
          );
        // The broken copy with a PATH of node's folder and the system's: the npm cfn-lint, unless the
        // system has Python's there too; the misspelt property is an error for both.
        const bare = { ...process.env, PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter) };
        const [shipped, bad] = await Promise.all([preflight(templateFile), preflight(brokenFile, bare)]);
        expect(shipped.code, shipped.stdout).to.equal(0);
        expect(shipped.stdout).to.match(/^CHECK +ITEM +RESULT +DETAIL\n/);
        expect(shipped.stdout).to.match(/preflight of stage prod: no breaker\n$/);
        expect(bad.code, bad.stdout).to.equal(1);
        expect(bad.stdout).to.match(/cfn-lint +\S+ +BREAKER .*BillingMod/);
        expect(bad.stdout).to.match(/alarm topic +AlarmTopic .* BREAKER +alias\/aws\/sns/);
        expect(bad.stdout).to.match(/preflight of stage prod: \d+ BREAKERS; fix before sls deploy\n$/);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('has a dashboard of the service metrics', () => {
      const [dashboard] = ofType('AWS::CloudWatch::Dashboard');
      const body = JSON.stringify(dashboard?.Properties.DashboardBody);
      for (const metric of [
        'MachinesStarted',
        'MachinesFailed',
        'TransitionsCommitted',
        'StepLatency',
        'HandlerDuration',
        'RecordsFailed',
      ]) {
        expect(body).to.include(metric);
      }
    });

    it('traces every function with X-Ray, each role allowed to, and keeps logs for the retention param', () => {
      for (const fn of ofType('AWS::Lambda::Function')) {
        expect(fn.Properties.TracingConfig).to.deep.equal({ Mode: 'Active' });
        expect(fn.Properties.Environment.Variables.POWERTOOLS_TRACE_ENABLED).to.equal('true');
      }
      for (const role of ofType('AWS::IAM::Role'))
        expect(JSON.stringify(role.Properties)).to.include('xray:PutTraceSegments');
      // prod's logRetentionInDays (serverless.yml params): 30, not the default 14.
      for (const group of ofType('AWS::Logs::LogGroup')) expect(group.Properties.RetentionInDays).to.equal(30);
    });

    it('deploys no example or test function to prod', () => {
      const names = ofType('AWS::Lambda::Function').map((f) => f.Properties.FunctionName as string);
      expect(names).to.have.length(15); // 12 API functions, the processor, the dead-letter consumer, the sweeper
      for (const name of ['prepare', 'finalize', 'flaky', 'always-fails', 'noop']) {
        expect(names).not.to.include(`${SERVICE}-prod-${name}`);
      }
      expect(JSON.stringify(template)).not.to.include('test-functions');
    });

    describe('per-function packages (npm run bench:bundles measures them)', () => {
      let bundles: FunctionBundle[];
      const code = (bundle: FunctionBundle) => bundle.files.map((file) => file.data.toString('utf8')).join('\n');
      const named = (name: string) => bundles.find((bundle) => bundle.name === name) as FunctionBundle;

      before(async () => {
        bundles = await functionBundles(outDir);
      });

      it("leaves no zip's staging folder in the OS temp folder (only tsx's compile cache)", () => {
        expect(leftInTmp.filter((entry) => !entry.startsWith('tsx-'))).to.deep.equal([]);
      });

      it('packages every function in a zip of its own, each at most 1 MB, with no source maps', () => {
        const functions = ofType('AWS::Lambda::Function');
        expect(bundles.map((bundle) => bundle.name)).to.have.length(functions.length);
        const artifacts = functions.map((fn) => fn.Properties.Code.S3Key);
        expect(new Set(artifacts).size, 'one artifact per function').to.equal(functions.length);
        for (const bundle of bundles) {
          expect(bundle.zipBytes, bundle.name).to.be.at.most(MAX_ZIP_BYTES);
          expect(bundle.files.map((file) => file.name)).to.include(bundle.handlerFile);
          for (const file of bundle.files) {
            expect(file.name, bundle.name).not.to.match(/\.map$/);
            expect(file.data.includes('sourceMappingURL='), `${bundle.name} ${file.name}`).to.equal(false);
          }
        }
        const env = template.Resources.GetMachineLambdaFunction?.Properties.Environment.Variables;
        expect(env, 'no --enable-source-maps at cold start').not.to.have.property('NODE_OPTIONS');
      });

      it('bundles only what a handler imports: no SQS or Lambda client in GET functions, no zod locales, no dev code', () => {
        const sqs = 'AmazonSQS';
        const lambda = 'AWSGirApiService';
        expect(code(named('addMachine'))).to.include(sqs);
        expect(code(named('transition'))).to.include(lambda);
        for (const name of ['getMachine', 'listMachines', 'machineHistory', 'machineDiagram']) {
          expect(code(named(name)), name).not.to.include(sqs);
          expect(code(named(name)), name).not.to.include(lambda);
        }
        for (const bundle of bundles) {
          const text = code(bundle);
          // zod's German messages: one of the locales z.config() could load, none of which we use.
          expect(text.includes('Ungültige'), `${bundle.name}: zod locales`).to.equal(false);
          for (const devOnly of ['dynalite', 'local-aws-sqs', 'playwright', 'serverless-offline']) {
            expect(text.includes(devOnly), `${bundle.name}: ${devOnly}`).to.equal(false);
          }
        }
      });

      it('keeps the SVG renderer out of the diagram bundle, in a file only its zip holds, loaded on first use', () => {
        const renderer = 'handlers/entrypoints/http/machineDiagram.beautiful-mermaid.mjs';
        const diagram = named('machineDiagram');
        expect(diagram.files.map((file) => file.name)).to.have.members([diagram.handlerFile, renderer]);
        const main = diagram.files.find((file) => file.name === diagram.handlerFile)?.data.toString('utf8') ?? '';
        expect(main).to.include('import("./machineDiagram.beautiful-mermaid.mjs")');
        for (const bundle of bundles.filter((b) => b !== diagram)) {
          expect(bundle.files.map((file) => file.name)).to.deep.equal([bundle.handlerFile]);
        }
      });

      it('builds handler files that load in a fresh node and export a handler', async () => {
        const dir = await mkdtemp(join(tmpdir(), 'fsm-bundles-'));
        try {
          for (const bundle of bundles) {
            const file = await extract(bundle, join(dir, bundle.name));
            const exported = (
              await run(process.execPath, [
                '-e',
                `process.stdout.write(typeof require(${JSON.stringify(file)}).${bundle.handler})`,
              ])
            ).stdout;
            expect(exported, bundle.name).to.equal('function');
          }
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      });
    });

    it('outputs the API URL, tables and queue', () => {
      expect(template.Outputs).to.include.keys(
        'HttpApiUrl',
        'MachinesTableName',
        'HistoryTableName',
        'TransitionQueueUrl',
      );
    });
  });

  describe('sls package --stage prod with apiAuth jwt (and --aws-profile offline)', () => {
    it('puts a JWT authorizer of the issuer and audience params on every route, whatever words the command line holds', async () => {
      // `offline` on the command line once turned every authorizer off; only `sls offline start` may.
      const { template: jwt, remove } = await packageStage('prod', [
        '--param=apiAuth=jwt',
        '--param=jwtIssuer=https://issuer.example.com',
        '--param=jwtAudience=fsm-api',
        '--param=apiReservedConcurrency=5',
        '--aws-profile',
        'offline',
      ]);
      try {
        const resources = Object.values(jwt.Resources);
        const [authorizer, ...others] = resources.filter((r) => r.Type === 'AWS::ApiGatewayV2::Authorizer');
        expect(others).to.deep.equal([]);
        expect(authorizer?.Properties).to.deep.include({
          AuthorizerType: 'JWT',
          JwtConfiguration: { Audience: ['fsm-api'], Issuer: 'https://issuer.example.com' },
        });
        const routes = resources.filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
        expect(routes).to.have.length(12);
        for (const route of routes) expect(route.Properties.AuthorizationType).to.equal('JWT');
        expect(await breakers(jwt, 'prod')).to.deep.equal([]);
        // apiReservedConcurrency reserves for each API function, not for the queue consumers.
        const reserved = Object.values(jwt.Resources)
          .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.ReservedConcurrentExecutions !== undefined)
          .map((r) => [r.Properties.Handler.split('/')[2], r.Properties.ReservedConcurrentExecutions]);
        expect(reserved).to.have.length(12);
        for (const [handler, value] of reserved) expect([handler, value]).to.deep.equal(['http', 5]);
      } finally {
        await remove();
      }
    });
  });

  describe('sls package --stage dev (with the example functions)', () => {
    let template: Template;
    let remove: () => Promise<void>;

    before(async () => {
      ({ template, remove } = await packageStage('dev'));
    });

    after(async () => {
      await remove?.();
    });

    /** The functions nothing but the processor calls: no route, queue or schedule invokes them. */
    const stateFunctionNames = () => {
      const triggered = new Set(
        Object.values(template.Resources).flatMap((r) => {
          if (r.Type === 'AWS::Events::Rule') return r.Properties.Targets.map((t: any) => t.Arn['Fn::GetAtt'][0]);
          if (r.Type !== 'AWS::ApiGatewayV2::Integration' && r.Type !== 'AWS::Lambda::EventSourceMapping') return [];
          return [(r.Properties.IntegrationUri ?? r.Properties.FunctionName)['Fn::GetAtt'][0]];
        }),
      );
      return functionsOf(template)
        .filter(([id]) => !triggered.has(id))
        .map(([, fn]) => fn.Properties.FunctionName as string);
    };

    it('gives each example function a role of its own that grants nothing but logs and X-Ray, and has no unused default role', () => {
      expect(template.Resources).not.to.have.property('IamRoleLambdaExecution');
      const examples = functionsOf(template).filter(([, fn]) =>
        stateFunctionNames().includes(fn.Properties.FunctionName),
      );
      for (const [id, fn] of examples) {
        const role = fn.Properties.Role['Fn::GetAtt'][0] as string;
        const actions = template.Resources[role]?.Properties.Policies.flatMap((policy: any) =>
          policy.PolicyDocument.Statement.flatMap((statement: any) => [statement.Action].flat()),
        );
        expect(
          actions.filter((action: string) => !/^(logs|xray):/.test(action)),
          id,
        ).to.deep.equal([]);
      }
    });

    it('passes the preflight with no breaker (its state functions on the allow-list)', async () => {
      expect(await breakers(template, 'dev')).to.deep.equal([]);
    });

    it('has the example functions as its state functions, and only them', () => {
      const handlers = functionsOf(template)
        .filter(([, fn]) => stateFunctionNames().includes(fn.Properties.FunctionName))
        .map(([, fn]) => fn.Properties.Handler as string);
      // resources/example-functions.js: the workflow's and the fault suite's, and README's src/chargeCard.ts.
      expect(handlers).to.have.length(15);
      for (const handler of handlers) expect(handler).to.match(/^(test-functions|src)\//);
    });

    it("lets the processor invoke exactly the stage's state functions (any version or alias), in the stack's own partition", () => {
      const names = stateFunctionNames();
      const [statement, ...others] = invokeStatements(template, 'TransitionIamRoleLambdaExecution');
      expect(others).to.deep.equal([]);
      expect(statement?.Effect).to.equal('Allow');
      const resources = [statement?.Resource].flat().map(arnText);
      expect(resources).to.have.members(names.flatMap((name) => [functionArn(name), `${functionArn(name)}:*`]));
      expect(resources.join(' ')).not.to.include('arn:aws:');
      // Not the API functions, the processor or the dead-letter consumer; no prefix glob.
      const entryPoints = functionsOf(template)
        .map(([, fn]) => fn.Properties.FunctionName as string)
        .filter((name) => !names.includes(name));
      expect(entryPoints).to.include.members([
        `${SERVICE}-dev-addMachine`,
        `${SERVICE}-dev-transition`,
        `${SERVICE}-dev-deadLetters`,
      ]);
      for (const name of entryPoints) {
        expect(
          resources.filter((arn) => arn.includes(`:function:${name}`)),
          name,
        ).to.deep.equal([]);
      }
      expect(resources.filter((arn) => /:function:[^:]*\*/.test(arn))).to.deep.equal([]);
    });

    it('gives the API and the processor the same state functions as their allow-list', () => {
      const names = stateFunctionNames();
      for (const id of ['AddMachineLambdaFunction', 'TransitionLambdaFunction']) {
        const allowList = template.Resources[id]?.Properties.Environment.Variables.ALLOWED_FUNCTIONS as string;
        expect(allowList.split(','), id).to.have.members(names);
      }
    });
  });
});
