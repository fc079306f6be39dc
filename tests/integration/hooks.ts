import type { StackInfo } from '../../plugins/serverless-offline-emulators/src/plugin';
import type { LogRecord } from '../../plugins/serverless-offline-emulators/src/recorder';
import { callsOf, formatReport, type IamReport, readRequestLog, simulateCalls } from '../helpers/iamSimulation';
import { requestLogsOfRun, startSharedStacks, stopSharedStacks } from '../helpers/stack';
import { laneProblems } from './lanes';

/**
 * Every AWS call each function made during the whole run, on every stack (the shared ones and
 * those suites started for themselves), evaluated against its role's policies by an IAM
 * simulator: fails the run on any call the role does not allow (listing each), and prints, per
 * function, what its role allows that it never called.
 */
async function checkIamOfWholeRun(): Promise<void> {
  const logs = requestLogsOfRun();
  if (logs.length === 0) return;
  // Stacks of the same roles are simulated together, so "never called" is over all of them.
  const byRoles = new Map<string, { info: StackInfo; records: LogRecord[] }>();
  for (const { requestLog, info } of logs) {
    const key = JSON.stringify(info.iam);
    const group = byRoles.get(key) ?? { info, records: [] };
    group.records.push(...(await readRequestLog(requestLog)));
    byRoles.set(key, group);
  }
  const reports: IamReport[] = [];
  for (const { info, records } of byRoles.values()) {
    reports.push(await simulateCalls(callsOf(records, info.iam), info.iam, info));
  }
  const report: IamReport = {
    calls: reports.flatMap((r) => r.calls),
    denied: reports.flatMap((r) => r.denied),
    surplus: Object.fromEntries(
      [...new Set(reports.flatMap((r) => Object.keys(r.surplus)))].map((fn) => [
        fn,
        [...new Set(reports.flatMap((r) => r.surplus[fn] ?? []))].filter((grant) =>
          reports.every((r) => !(fn in r.surplus) || (r.surplus[fn] ?? []).includes(grant)),
        ),
      ]),
    ),
  };
  console.log(`\nthe request logs of ${logs.length} stack(s): ${logs.map((log) => log.name).join(', ')}`);
  console.log(`${formatReport(report)}\n`);
  if (report.denied.length > 0) {
    throw new Error(
      `IAM: ${report.denied.length} call(s) the calling function's role does not allow:\n${report.denied
        .map((d) => `  ${d.function}: ${d.action} on ${d.resource} (${d.result})`)
        .join('\n')}`,
    );
  }
}

/**
 * Global fixtures (run once, in mocha's main process): the shared stacks of the integration
 * suites (tests/helpers/stack.ts), stopped after the last suite even when tests fail. A serial run
 * has one, up before the first suite. A parallel run (lanes, see lanes.ts) starts two, and its
 * lanes start at once: a lane waits for its stack, and lanes without one do not.
 */
export async function mochaGlobalSetup(this: Mocha.Runner & { isParallelMode(): boolean }): Promise<void> {
  if (!this.isParallelMode()) {
    await startSharedStacks(['main']);
    return;
  }
  // Every lane needs a worker of its own: a lane that waits for another holds its worker meanwhile.
  const jobs = Number(process.argv.find((arg) => arg.startsWith('--jobs='))?.slice('--jobs='.length));
  const problems = laneProblems(jobs);
  if (problems.length > 0) throw new Error(`tests/integration/lanes.ts:\n  ${problems.join('\n  ')}`);
  // A stack that does not start fails the lanes that wait for it, saying why.
  process.env.FSM_TEST_RUN_STARTED = String(Date.now());
  startSharedStacks(['main', 'faults']).catch(() => undefined);
}

export async function mochaGlobalTeardown(): Promise<void> {
  try {
    await checkIamOfWholeRun();
  } finally {
    await stopSharedStacks();
  }
}
