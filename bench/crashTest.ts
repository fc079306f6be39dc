import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient } from '../client/apiClient';
import { type LocalStack, scratchBuildDir, startLocalStack, useLocalCredentials } from '../tests/helpers/localStack';

/**
 * `npm run crash-test`: what a laptop's crash does to machines in flight (docs/design.md "Local
 * stack"). `npm start -- --persist` (stage dev, as `npm start`), adds `--machines` machines of
 * examples/fsm.json, then `kill -9`s the stack's whole process group `--kills` times, 0.8 s after
 * the adds and 0.8 s after each restart, and restarts it with the same flags. Passes when at least
 * `--min` machines SUCCEEDED within `--deadline` seconds of the last restart, each with exactly the
 * workflow's history (created, three transitions, succeeded; seq 0..4).
 */
const { values: args } = parseArgs({
  options: {
    machines: { type: 'string', default: '100' },
    kills: { type: 'string', default: '2' },
    min: { type: 'string' },
    deadline: { type: 'string', default: '120' },
    port: { type: 'string', default: process.env.FSM_CRASH_PORT ?? '31000' },
    pause: { type: 'string', default: '0.8' },
  },
});
const machines = Number(args.machines);
const kills = Number(args.kills);
const min = Number(args.min ?? Math.ceil(machines * 0.98));
const deadlineMs = Number(args.deadline) * 1000;
const pauseMs = Number(args.pause) * 1000;
const base = Number(args.port);
const ports = { http: base, lambda: base + 1, dynamodb: base + 2, sqs: base + 3 };
const EXPECTED = ['created', 'transition', 'transition', 'transition', 'succeeded'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function start(dataDir: string): Promise<LocalStack> {
  const started = Date.now();
  const stack = await startLocalStack({
    ports,
    stage: 'dev',
    dataDir,
    buildDir: scratchBuildDir('crash'),
    onOutput: (line) => {
      if (process.env.FSM_VERBOSE) console.log(`  [sls] ${line}`);
    },
  });
  console.log(`  stack up in ${((Date.now() - started) / 1000).toFixed(1)} s (pid ${stack.offlinePid})`);
  return stack;
}

/** `kill -9` of the stack's process group, then waits until nothing of it is left. */
async function crash(stack: LocalStack): Promise<void> {
  const pid = stack.offlinePid as number;
  process.kill(-pid, 'SIGKILL');
  for (;;) {
    try {
      process.kill(-pid, 0);
    } catch {
      return;
    }
    await sleep(20);
  }
}

async function main() {
  useLocalCredentials();
  const dataDir = await mkdtemp(join(tmpdir(), 'fsm-crash-'));
  const definition = JSON.parse(await readFile(join(__dirname, '..', 'examples', 'fsm.json'), 'utf8'));
  let stack = await start(dataDir);
  try {
    let api = new ApiClient({ endpoint: stack.apiUrl });
    const ids: string[] = [];
    for (let i = 0; i < machines; i += 10) {
      const batch = Array.from({ length: Math.min(10, machines - i) }, () =>
        api.json<{ id: string }>('POST', '/machines', definition),
      );
      ids.push(...(await Promise.all(batch)).map((m) => m.id));
    }
    console.log(`  added ${ids.length} machines`);
    for (let k = 0; k < kills; k++) {
      await sleep(pauseMs);
      await crash(stack);
      console.log(`  kill -9 #${k + 1}`);
      stack = await start(dataDir);
    }
    const restartedAt = Date.now();
    api = new ApiClient({ endpoint: stack.apiUrl });
    const done = new Set<string>();
    const status = new Map<string, string>();
    while (Date.now() - restartedAt < deadlineMs && done.size < ids.length) {
      for (const id of ids) {
        if (done.has(id)) continue;
        const m = await api.json<{ status: string }>('GET', `/machines/${id}`);
        status.set(id, m.status);
        if (m.status === 'SUCCEEDED' || m.status === 'FAILED') done.add(id);
      }
      if (done.size < ids.length) await sleep(1000);
    }
    const seconds = ((Date.now() - restartedAt) / 1000).toFixed(1);
    let succeeded = 0;
    const bad: string[] = [];
    for (const id of ids) {
      if (status.get(id) !== 'SUCCEEDED') continue;
      const { events } = await api.history(id);
      const outcomes = events.map((e) => e.outcome);
      const exact =
        JSON.stringify(outcomes) === JSON.stringify(EXPECTED) && events.every((e, i) => Number(e.seq) === i);
      if (exact) succeeded++;
      else bad.push(`${id}: ${JSON.stringify(outcomes)}`);
    }
    const counts: Record<string, number> = {};
    for (const id of ids) counts[status.get(id) ?? '?'] = (counts[status.get(id) ?? '?'] ?? 0) + 1;
    console.log(
      `crash test: ${succeeded} of ${ids.length} SUCCEEDED with exact histories, ${seconds} s after the last restart ` +
        `(${kills} kill -9; statuses ${JSON.stringify(counts)}; need >= ${min})`,
    );
    for (const line of bad) console.log(`  inexact history: ${line}`);
    process.exitCode = succeeded >= min ? 0 : 1;
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
