import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { join, relative } from 'node:path';
import { BACKGROUND_NICENESS, runFolder, type SharedStackName, useOwnStack, useSharedStack } from '../helpers/stack';

/**
 * `npm run test:integration` runs the integration suites in lanes, all lanes at once (mocha
 * --parallel, one worker per lane file in lanes/); the suites of a lane run one after the other,
 * in the order given here, as in a serial run. Much of the suite's time is spent waiting (delays,
 * leases, visibility timeouts), and lanes wait side by side.
 *
 * Suites share a stack where sharing does not change what they test (tests/helpers/stack.ts):
 * the suites on `main` count the alive machines, page through listings, redrive every FAILED
 * machine since a moment or read the stack's request log, so no other suite may add machines
 * there while they run. The fault suite's lanes share `faults`: each of its tests drives machines
 * of its own through a queue of its own, and none lists machines. The heaviest suites (200
 * machines at once, a growing object) have a stack of their own, as have suites that need other
 * stack settings.
 *
 * The two cores are busy all along (bundling the functions of each stack and package takes most
 * of them), and the fault suite counts on seconds (leases, visibility timeouts, a wake racing its
 * step): the lanes that count on seconds the least, and what they start (stacks, `sls package`,
 * CLI runs), have a lower scheduling priority (`niceness`), so the others are served first; and
 * of those, a lane with `after` starts once the lanes it names have ended, so that each gets a
 * share of the CPU that its timeouts allow.
 */
interface Lane {
  /** The stack its suites use: a shared one, or one of their own (none: they start what they need). */
  stack?: SharedStackName | 'own';
  niceness?: number;
  after?: string[];
  suites: string[];
}

export const LANES: Record<string, Lane> = {
  main: {
    stack: 'main',
    suites: [
      'api.test.ts',
      'listing.test.ts',
      'recovery.test.ts',
      'cli.test.ts',
      'console.test.ts',
      // Last: it reads the requests of every suite before it on this stack.
      'requestLog.test.ts',
    ],
  },
  faults: { stack: 'faults', suites: ['faults.test.ts'] },
  faultsHandlers: { stack: 'faults', suites: ['faultsHandlers.test.ts'] },
  faultsRecovery: { stack: 'faults', suites: ['faultsRecovery.test.ts'] },
  // sls package (three templates), then sls invoke local (on `faults`, see serverless.test.ts).
  packaging: { niceness: BACKGROUND_NICENESS, suites: ['serverless.test.ts'] },
  side: {
    stack: 'own',
    niceness: BACKGROUND_NICENESS,
    // Late, when the fewest suites are left to share the CPU with (200 machines in 110 s).
    after: ['start'],
    suites: [
      'faultsAtScale.test.ts',
      'growing.test.ts',
      'diagramSvg.test.ts',
      'functionArns.test.ts',
      'recursiveLoop.test.ts',
    ],
  },
  start: { niceness: BACKGROUND_NICENESS, suites: ['start.test.ts'] },
  // Stacks of their own.
  ownStacks: {
    niceness: BACKGROUND_NICENESS,
    after: ['packaging'],
    suites: ['authAndMetrics.test.ts', 'throttle.test.ts'],
  },
};

/** The note a lane leaves in the run's folder once it has ended (passed or not). */
const endedNote = (lane: string) => join(runFolder() as string, `lane-${lane}.ended`);

/** Loads the suites of a lane, in order, on the lane's stack (a lane file's only content). */
export function loadLane(name: string): void {
  const lane = LANES[name];
  if (!lane) throw new Error(`no lane ${name} in tests/integration/lanes.ts`);
  if (lane.niceness) {
    try {
      setPriority(Math.max(getPriority(), lane.niceness));
    } catch {
      // not allowed here: the lane runs at the priority of the others
    }
  }
  const waitsFor = lane.after ?? [];
  const runStarted = Number(process.env.FSM_TEST_RUN_STARTED ?? Date.now());
  const at = () => `${((Date.now() - runStarted) / 1000).toFixed(0)} s`;
  let began = '';
  before(async function () {
    this.timeout(900_000);
    while (waitsFor.some((other) => !existsSync(endedNote(other)))) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    began = at();
  });
  after(() => {
    writeFileSync(endedNote(name), '');
    console.log(
      `\n  lane ${name}: from ${began} to ${at()} into the run${waitsFor.length ? ` (after ${waitsFor.join(', ')})` : ''}`,
    );
  });
  if (lane.stack === 'own') useOwnStack();
  else if (lane.stack) useSharedStack(lane.stack);
  for (const suite of lane.suites) require(join(__dirname, suite));
}

/**
 * Every integration suite in exactly one lane, every lane with a file in lanes/, and a worker for
 * each (mocha's `--jobs`); else what is wrong.
 */
export function laneProblems(jobs: number): string[] {
  const suites = readdirSync(__dirname, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => relative(__dirname, join(__dirname, file)));
  const laned = Object.values(LANES).flatMap((lane) => lane.suites);
  const laneFiles = readdirSync(join(__dirname, 'lanes')).filter((file) => file.endsWith('.lane.ts'));
  return [
    ...suites.filter((suite) => !laned.includes(suite)).map((suite) => `${suite} is in no lane`),
    ...laned.filter((suite, i) => laned.indexOf(suite) !== i).map((suite) => `${suite} is in two lanes`),
    ...laned.filter((suite) => !suites.includes(suite)).map((suite) => `${suite} (in a lane) does not exist`),
    ...Object.keys(LANES)
      .filter((lane) => !laneFiles.includes(`${lane}.lane.ts`))
      .map((lane) => `lane ${lane} has no file lanes/${lane}.lane.ts`),
    ...laneFiles
      .filter((file) => !(file.replace(/\.lane\.ts$/, '') in LANES))
      .map((file) => `lanes/${file} is not a lane of LANES`),
    ...(jobs >= Object.keys(LANES).length
      ? []
      : [`${Object.keys(LANES).length} lanes need as many workers: mocha --jobs ${Object.keys(LANES).length}`]),
  ];
}
