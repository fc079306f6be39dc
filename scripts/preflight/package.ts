import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, SLS_BIN, scratchBuildDir, slsEnv } from '../../tests/helpers/localStack';

const run = promisify(execFile);

export type Template = {
  // biome-ignore lint/suspicious/noExplicitAny: a resource's properties are any CloudFormation's, read by path
  Resources: Record<string, { Type: string; Properties: any; Condition?: string }>;
  Outputs: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
};

/**
 * `sls package --stage <stage>` into a temporary folder, with an OS temp folder of its own: the
 * update template, what packaging left in that temp folder, and a function removing it all.
 */
export async function packageStage(stage: string, args: string[] = []) {
  const outDir = await mkdtemp(join(tmpdir(), `fsm-package-${stage}-`));
  const osTmp = await mkdtemp(join(tmpdir(), `fsm-package-tmp-${stage}-`));
  const build = scratchBuildDir(`package-${stage}`);
  const remove = async () => {
    await Promise.all([outDir, osTmp, build].map((path) => rm(path, { recursive: true, force: true })));
  };
  try {
    await run(process.execPath, [SLS_BIN, 'package', '--stage', stage, '--package', outDir, ...args], {
      env: slsEnv(await freePorts(), { FSM_BUILD_DIR: build, TMPDIR: osTmp }),
      maxBuffer: 16 * 1024 * 1024,
    });
    const file = join(outDir, 'cloudformation-template-update-stack.json');
    const template: Template = JSON.parse(await readFile(file, 'utf8'));
    return { outDir, file, template, leftInTmp: await readdir(osTmp), remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
