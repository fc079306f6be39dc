import { readFile } from 'node:fs/promises';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { StackInfo } from '../../plugins/serverless-offline-emulators/src/plugin';
import type { LogRecord, RequestRecord } from '../../plugins/serverless-offline-emulators/src/recorder';

/**
 * Checks the AWS calls the functions made (the local stack's request log) against each function's
 * role with a real IAM policy evaluator (@cloud-copilot/iam-simulate: actions and resource ARNs
 * validated against AWS's service reference, wildcards, Deny, NotAction/NotResource, conditions),
 * not a hand-written matcher.
 */

type Statement = StackInfo['iam'][string][number] & { Sid?: string; NotAction?: unknown; NotResource?: unknown };

/** One distinct call: a function did `action` on `resource` (`count` times). */
export interface Call {
  function: string;
  action: string;
  resource: string;
  count: number;
}

export interface Denial extends Omit<Call, 'count'> {
  count: number;
  /** ImplicitlyDenied, ExplicitlyDenied, or the simulator's validation error (e.g. an unknown action). */
  result: string;
}

export interface IamReport {
  calls: Call[];
  denied: Denial[];
  /** Per function: `action on resource pattern` its role allows that no call used. */
  surplus: Record<string, string[]>;
}

/** The request log as records (one JSON object a line). */
export async function readRequestLog(file: string): Promise<LogRecord[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogRecord);
}

/** The distinct (function, action, resource) calls of a request log, for the functions `iam` has roles for. */
export function callsOf(records: LogRecord[], iam: StackInfo['iam']): Call[] {
  const calls = new Map<string, Call>();
  for (const record of records) {
    if (record.kind !== 'request' || !record.function || !(record.function in iam)) continue;
    const request = record as RequestRecord;
    for (const resource of request.resources) {
      const key = JSON.stringify([request.function, request.iamAction, resource]);
      const call = calls.get(key) ?? {
        function: request.function as string,
        action: request.iamAction,
        resource,
        count: 0,
      };
      call.count += 1;
      calls.set(key, call);
    }
  }
  return [...calls.values()];
}

const list = (value: unknown): string[] => (value === undefined ? [] : [value].flat().map(String));

/**
 * The role's statements split into one (action, resource) pair each, named by Sid, so the
 * evaluator's answer says which grant a call used. Statements with NotAction, NotResource or a
 * Condition stay whole (they are not split, and never reported as surplus).
 */
function atomicStatements(statements: Statement[]): { statements: Statement[]; grants: Map<string, string> } {
  const grants = new Map<string, string>();
  const out: Statement[] = [];
  for (const [index, statement] of statements.entries()) {
    const { Sid: _sid, ...rest } = statement;
    const splittable =
      statement.Effect === 'Allow' &&
      statement.NotAction === undefined &&
      statement.NotResource === undefined &&
      !('Condition' in statement);
    if (!splittable) {
      out.push({ ...rest, Sid: `S${index}` });
      continue;
    }
    for (const action of list(statement.Action)) {
      for (const resource of list(statement.Resource)) {
        const sid = `G${grants.size}`;
        grants.set(sid, `${action} on ${resource}`);
        out.push({ Sid: sid, Effect: 'Allow', Action: action, Resource: resource });
      }
    }
  }
  return { statements: out, grants };
}

/** Evaluates every call against its function's role (`iam`: the stack info's resolved statements). */
export async function simulateCalls(
  calls: Call[],
  iam: StackInfo['iam'],
  { accountId }: { accountId: string },
): Promise<IamReport> {
  const denied: Denial[] = [];
  const surplus: Record<string, string[]> = {};
  for (const [fn, statements] of Object.entries(iam)) {
    const { statements: atomic, grants } = atomicStatements((statements ?? []) as Statement[]);
    const unused = new Set(grants.keys());
    const policy = { Version: '2012-10-17', Statement: atomic };
    for (const call of calls.filter((c) => c.function === fn)) {
      const answer = await runSimulation(
        {
          request: {
            principal: `arn:aws:iam::${accountId}:role/${fn}`,
            action: call.action,
            resource: { resource: call.resource, accountId },
            contextVariables: {},
          },
          identityPolicies: [{ name: `${fn}-role`, policy }],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
        },
        {},
      );
      if (answer.resultType === 'error') {
        denied.push({ ...call, result: `invalid request: ${JSON.stringify(answer.errors)}` });
        continue;
      }
      if (answer.overallResult !== 'Allowed') {
        denied.push({ ...call, result: answer.overallResult });
        continue;
      }
      if (answer.resultType === 'single') {
        for (const allow of answer.result.analysis?.identityAnalysis?.allowStatements ?? []) {
          unused.delete(allow.explain.identifier);
        }
      }
    }
    surplus[fn] = [...unused].map((sid) => grants.get(sid) as string);
  }
  return { calls, denied, surplus };
}

/** A readable report: the denied calls, then each function's unused grants. */
export function formatReport(report: IamReport): string {
  const lines = [`IAM simulation of ${report.calls.length} distinct calls:`];
  if (report.denied.length > 0) {
    lines.push('  DENIED (the function made the call, its role does not allow it):');
    for (const d of report.denied)
      lines.push(`    ${d.function}: ${d.action} on ${d.resource} (${d.count}x) -> ${d.result}`);
  } else {
    lines.push('  every call allowed by the calling function role');
  }
  lines.push('  Allowed but never called during the suite (informational):');
  // ARNs without the `arn:aws:<service>:<region>:<account>:` prefix, which the action already says.
  const short = (grant: string) => grant.replace(/arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d*:/, '');
  for (const [fn, grants] of Object.entries(report.surplus)) {
    if (grants.length > 0) lines.push(`    ${fn}: ${grants.map(short).join('; ')}`);
  }
  return lines.join('\n');
}
