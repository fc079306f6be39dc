import { type ChildProcess, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { BACKGROUND_NICENESS } from './helpers/stack';

/**
 * `npm test`: the npm scripts below side by side rather than one after the other (the
 * integration suite mostly waits, see tests/integration/lanes.ts), each one's output printed in
 * one piece when it ends, then a summary; fails if any fails. `niceness`: what no test of another
 * job waits for yields the CPU to the integration suite, whose suites count seconds. A job with
 * `after` starts once those have ended.
 */
interface Job {
  script: string;
  niceness?: number;
  after?: string[];
}

const JOBS: Job[] = [
  // Short, while the integration suite's first stacks are being built.
  { script: 'lint' },
  { script: 'typecheck' },
  { script: 'test:unit' },
  { script: 'test:plugin' },
  { script: 'test:integration' },
  // Its own stack; a smoke test of the benchmark (its figures are the full `npm run bench`'s job).
  { script: 'bench:quick', niceness: BACKGROUND_NICENESS, after: ['test:unit', 'test:plugin'] },
];

interface Result {
  script: string;
  code: number;
  seconds: number;
}

const started = Date.now();
const seconds = (since: number) => (Date.now() - since) / 1000;
const running = new Set<ChildProcess>();

function run({ script, niceness }: Job): Promise<Result> {
  const since = Date.now();
  const output: Buffer[] = [];
  const child = spawn('npm', ['run', '-s', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (niceness) {
    try {
      setPriority(child.pid as number, niceness);
    } catch {
      // not allowed here: it runs at the same priority as the rest
    }
  }
  running.add(child);
  child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
  return new Promise((resolve) => {
    child.on('close', (exitCode, signal) => {
      running.delete(child);
      const result = { script, code: exitCode ?? (signal ? 1 : 0), seconds: seconds(since) };
      const status = result.code === 0 ? 'passed' : `FAILED (exit ${exitCode ?? signal})`;
      process.stdout.write(
        `\n━━━ npm run ${script}: ${status} in ${result.seconds.toFixed(1)} s ━━━\n${Buffer.concat(output).toString()}`,
      );
      resolve(result);
    });
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const child of running) child.kill(signal);
    process.exit(1);
  });
}

async function main() {
  const results = new Map<string, Promise<Result>>();
  const schedule = (job: Job): Promise<Result> => {
    const known = results.get(job.script);
    if (known) return known;
    const waitFor = (job.after ?? []).map((script) => {
      const other = JOBS.find((j) => j.script === script);
      if (!other) throw new Error(`tests/runAll.ts: ${job.script} waits for ${script}, which is no job`);
      return schedule(other);
    });
    const result = Promise.all(waitFor).then(() => run(job));
    results.set(job.script, result);
    return result;
  };
  const all = await Promise.all(JOBS.map(schedule));
  console.log(`\n━━━ npm test: ${seconds(started).toFixed(1)} s ━━━`);
  for (const { script, code, seconds } of all) {
    console.log(`  ${code === 0 ? 'passed' : 'FAILED'}  ${seconds.toFixed(1).padStart(6)} s  npm run ${script}`);
  }
  process.exitCode = all.some((r) => r.code !== 0) ? 1 : 0;
}

main();
