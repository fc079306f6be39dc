import { callsOf, formatReport, readRequestLog, simulateCalls } from '../helpers/iamSimulation';
import { currentStack, startTestStack, stopTestStack } from '../helpers/stack';

/**
 * Every AWS call each function made during the whole suite, evaluated against its role's
 * policies by an IAM simulator: fails the run on any call the role does not allow (listing each),
 * and prints, per function, what its role allows that it never called.
 */
async function checkIamOfWholeSuite(): Promise<void> {
  const { requestLog, info } = currentStack();
  if (!requestLog) return;
  const report = await simulateCalls(callsOf(await readRequestLog(requestLog), info.iam), info.iam, info);
  console.log(`\n${formatReport(report)}\n`);
  if (report.denied.length > 0) {
    throw new Error(
      `IAM: ${report.denied.length} call(s) the calling function's role does not allow:\n${report.denied
        .map((d) => `  ${d.function}: ${d.action} on ${d.resource} (${d.result})`)
        .join('\n')}`,
    );
  }
}

/**
 * Global fixtures: one local stack for all integration tests of a mocha run, stopped even when
 * tests fail. They run once before all the files and once after them, in mocha's own process
 * also with --parallel (the fault lane's two files then share one stack and one IAM check, as
 * the other lane's files do). Unlike hooks they have no mocha timeout: the start gives up after
 * 90 s (tests/helpers/localStack.ts), the stop kills what is left after 10 s.
 */
export async function mochaGlobalSetup(): Promise<void> {
  await startTestStack();
}

export async function mochaGlobalTeardown(): Promise<void> {
  try {
    await checkIamOfWholeSuite();
  } finally {
    await stopTestStack();
  }
}
