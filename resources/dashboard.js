// The CloudWatch dashboard of a stage: the service's metrics (EMF, service + stage), the queues
// and the processor. The region is filled in by CloudFormation (Fn::Join around AWS::Region).
const REGION = '@@REGION@@';

module.exports = {
  resources: async ({ resolveVariable }) => {
    const service = await resolveVariable('self:service');
    const stage = await resolveVariable('sls:stage');
    const namespace = await resolveVariable('self:custom.metricsNamespace');
    const queues = {
      transitions: await resolveVariable('self:custom.queues.transitions'),
      deadLetters: await resolveVariable('self:custom.queues.deadLetters'),
    };
    const transition = `${service}-${stage}-transition`;
    const own = (name, stat = 'Sum') => [
      namespace,
      name,
      'service',
      'serverless-statemachine',
      'stage',
      stage,
      { stat },
    ];
    const widget = (title, metrics, x, y, extra = {}) => ({
      type: 'metric',
      x,
      y,
      width: 12,
      height: 6,
      properties: { title, region: REGION, view: 'timeSeries', period: 300, metrics, ...extra },
    });
    const body = {
      widgets: [
        widget('Machines', [own('MachinesStarted'), own('MachinesSucceeded'), own('MachinesFailed')], 0, 0),
        widget('Steps', [own('TransitionsCommitted'), own('Retries'), own('HandlerErrors'), own('Throttles')], 12, 0),
        widget('Step latency, due to commit (ms)', [own('StepLatency', 'p50'), own('StepLatency', 'p99')], 0, 6),
        widget('Handler duration (ms)', [own('HandlerDuration', 'p50'), own('HandlerDuration', 'p99')], 12, 6),
        widget(
          'Queues',
          [
            ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', queues.transitions, { stat: 'Maximum' }],
            ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queues.deadLetters, { stat: 'Maximum' }],
            own('DeadLettered'),
          ],
          0,
          12,
        ),
        widget(
          'Transition processor',
          [
            ['AWS/Lambda', 'Invocations', 'FunctionName', transition],
            ['AWS/Lambda', 'Errors', 'FunctionName', transition],
            own('RecordsFailed'),
            ['AWS/Lambda', 'Throttles', 'FunctionName', transition],
            ['AWS/Lambda', 'ConcurrentExecutions', 'FunctionName', transition, { stat: 'Maximum' }],
          ],
          12,
          12,
        ),
      ],
    };
    const parts = JSON.stringify(body).split(REGION);
    const joined = parts.flatMap((part, i) => (i === 0 ? [part] : [{ Ref: 'AWS::Region' }, part]));
    return {
      Resources: {
        Dashboard: {
          Type: 'AWS::CloudWatch::Dashboard',
          Properties: {
            DashboardName: `${service}-${stage}`,
            DashboardBody: { 'Fn::Join': ['', joined] },
          },
        },
      },
    };
  },
};
