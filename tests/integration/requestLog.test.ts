import { expect } from 'chai';
import type { RequestRecord } from '../../plugins/serverless-offline-emulators/src/recorder';
import { FUNCTION_CALLS, type Target } from '../../scripts/preflight/calls';
import { callsOf, readRequestLog, simulateCalls } from '../helpers/iamSimulation';
import { queueNames, tableNames } from '../helpers/localStack';
import { currentStack } from '../helpers/stack';

/**
 * The stack's request log, after the suites before this one ran: every AWS request names the
 * function that made it, and an IAM simulator allows each under that function's own role (so the
 * per-function attribution is right, and the roles miss nothing the code does). The global
 * teardown (hooks.ts) repeats the simulation over the whole suite's log.
 */
describe('request log (serverless-offline-emulators --requestLog)', () => {
  it('attributes every request to a function whose role allows it (IAM simulation)', async function () {
    this.timeout(60_000);
    const { requestLog, info } = currentStack();
    if (!requestLog) this.skip();
    const records = await readRequestLog(requestLog as string);
    const requests = records.filter((r): r is RequestRecord => r.kind === 'request');
    expect(requests.filter((r) => !r.eventSource && r.function && r.function in info.iam).length).to.be.greaterThan(
      100,
    );
    expect(records.some((r) => r.kind === 'invocation' && r.function === 'transition')).to.equal(true);
    // The pollers' receives and deletes are checked too: on AWS they use the function's role.
    expect(requests.some((r) => r.eventSource === 'sqs' && r.iamAction === 'sqs:DeleteMessage')).to.equal(true);
    const report = await simulateCalls(callsOf(records, info.iam), info.iam, info);
    expect(report.denied.map((d) => `${d.function}: ${d.action} on ${d.resource} (${d.result})`)).to.deep.equal([]);
  });

  it("makes no call the preflight's list of each function's calls lacks (scripts/preflight/calls.ts)", async function () {
    const { requestLog, info } = currentStack();
    if (!requestLog) this.skip();
    const tables = tableNames();
    const targetOf = (arn: string): Target | undefined => {
      if (arn.endsWith(`:table/${tables.machines}/index/byStatusShard`)) return 'statusIndex';
      if (arn.endsWith(`:table/${tables.machines}/index/byDueBucket`)) return 'dueIndex';
      if (arn.endsWith(`:table/${tables.machines}`)) return 'machines';
      if (arn.endsWith(`:table/${tables.history}`)) return 'history';
      if (arn.endsWith(`:${queueNames().transitions}`)) return 'transitionQueue';
      if (arn.includes(':lambda:')) return 'stateFunctions';
      return undefined;
    };
    const unlisted = new Set<string>();
    for (const r of await readRequestLog(requestLog as string)) {
      if (r.kind !== 'request' || r.eventSource || !r.function || !(r.function in info.iam)) continue;
      for (const resource of r.resources) {
        const target = targetOf(resource);
        const listed = target ? FUNCTION_CALLS[r.function]?.[target] : undefined;
        if (!listed?.includes(r.iamAction)) unlisted.add(`${r.function}: ${r.iamAction} on ${target ?? resource}`);
      }
    }
    expect([...unlisted]).to.deep.equal([]);
  });

  it('the simulator denies what a role does not grant (a call outside the statements, a misspelt action)', async () => {
    const { info } = currentStack();
    const queue = Object.values(info.queues)[0] as string;
    const queueArn = `arn:aws:sqs:${info.region}:${info.accountId}:${queue.slice(queue.lastIndexOf('/') + 1)}`;
    const report = await simulateCalls(
      [
        { function: 'getMachine', action: 'sqs:SendMessage', resource: queueArn, count: 1 },
        { function: 'getMachine', action: 'dynamodb:GetItems', resource: queueArn, count: 1 },
      ],
      { getMachine: info.iam.getMachine ?? [] },
      info,
    );
    expect(report.denied.map((d) => d.result.split(':')[0])).to.deep.equal(['ImplicitlyDenied', 'invalid request']);
    expect(report.surplus.getMachine?.[0]).to.match(/^dynamodb:GetItem on arn:aws:dynamodb:/);
  });
});
