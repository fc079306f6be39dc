import { readFile } from 'node:fs/promises';
import { expect } from 'chai';
import type { LogRecord, RequestRecord } from '../../plugins/serverless-offline-emulators/src/recorder';
import { currentStack } from '../helpers/stack';

const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(value);

/**
 * The stack's request log, after the other suites ran: every AWS request a function made names the
 * function, and each is one its own IAM statements in serverless.yml allow (so the per-function
 * attribution is right, and the roles are not missing anything the code does).
 */
describe('request log (serverless-offline-emulators --requestLog)', () => {
  it('attributes every request to a function whose IAM statements allow it', async function () {
    const { requestLog, info } = currentStack();
    if (!requestLog) this.skip();
    const records = (await readFile(requestLog as string, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogRecord);
    const requests = records.filter(
      (r): r is RequestRecord => r.kind === 'request' && !r.eventSource && !!r.function && r.function in info.iam,
    );
    expect(requests.length).to.be.greaterThan(100);
    expect(records.some((r) => r.kind === 'invocation' && r.function === 'transition')).to.equal(true);
    const denied = new Set<string>();
    for (const request of requests) {
      const statements = info.iam[request.function as string] ?? [];
      for (const resource of request.resources) {
        const allowed = statements.some(
          (s) =>
            s.Effect === 'Allow' &&
            [s.Action].flat().some((a) => glob(a, request.iamAction)) &&
            [s.Resource].flat().some((r) => typeof r === 'string' && glob(r, resource)),
        );
        if (!allowed) denied.add(`${request.function}: ${request.iamAction} on ${resource}`);
      }
    }
    expect([...denied]).to.deep.equal([]);
  });
});
