import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { currentStack } from './stack';

export interface FsmRun {
  code: number;
  stdout: string;
  stderr: string;
}

const PROJECT_DIR = join(__dirname, '..', '..');

/** Runs `fsm ...` as a user would, a process of its own in the project's folder, with `env` as its environment. */
export function runFsm(args: string[], env: NodeJS.ProcessEnv): Promise<FsmRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/fsm.js', ...args],
      { cwd: PROJECT_DIR, env, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `fsm ...` against the test stack (tests/integration/hooks.ts), unless --endpoint says otherwise. */
export function fsm(...args: string[]): Promise<FsmRun> {
  return runFsm(args, { ...process.env, FSM_ENDPOINT: currentStack().apiUrl });
}
