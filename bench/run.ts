import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LogRecord } from '../plugins/serverless-offline-emulators/src/recorder';
import {
  freePorts,
  type LocalStack,
  scratchBuildDir,
  startLocalStack,
  useLocalCredentials,
} from '../tests/helpers/localStack';
import { type BundleRow, formatBundles, measureProdBundles } from './bundles';
import { benchDomainStep, benchTestKit } from './domainStep';
import { runLimit } from './limit';
import { ASSUMPTIONS, PRICES, PRICES_AS_OF } from './prices';
import { median } from './stats';
import { runWorkload, type WorkloadResult } from './workload';

/**
 * `npm run bench`: transitions per second, transition latency, the limit of the local stack and
 * the AWS cost per million transitions. `--quick` is the smoke test run by `npm test`; `--cost`
 * runs the cost rows only (their figures come from the request log, not from timings).
 */
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    cost: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
    machines: { type: 'string' },
    steps: { type: 'string' },
    reps: { type: 'string' },
  },
});
const quick = args.quick ?? false;
const costOnly = args.cost ?? false;
const machines = Number(args.machines ?? (quick ? 10 : 200));
const steps = Number(args.steps ?? (quick ? 3 : 10));
const reps = costOnly ? 1 : Number(args.reps ?? (quick ? 1 : 3));
const singleSteps = quick ? 5 : 30;
/** The cost curve: machines of these object sizes, each run as a small workload of its own. */
const OBJECT_SIZES_KB = [1, 4, 16, 64];
const sizeMachines = quick ? 2 : 20;
const sizeSteps = quick ? 3 : 5;

type Counts = Record<string, number>;

/** One AWS request (or, service `trigger`, one SQS-triggered invocation) of a function, for the cost model. */
interface RequestMetric {
  service: 'dynamodb' | 'sqs' | 'lambda' | 'trigger';
  command: string;
  capacityUnits?: number;
  messages?: number;
  durationMs?: number;
  source?: string;
}

/**
 * The stack's request log (serverless-offline-emulators `--requestLog`): every request a function
 * made, by function, and every invocation by the SQS event source. The event source's own receives
 * and deletes are left out: the cost model prices those as Lambda's pollers would make them.
 */
async function readMetrics(file: string): Promise<RequestMetric[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const metrics: RequestMetric[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const entry = JSON.parse(line) as LogRecord;
    if (entry.kind === 'invocation') {
      metrics.push({
        source: entry.function,
        service: 'trigger',
        command: entry.function,
        messages: entry.messages,
        durationMs: entry.durationMs,
      });
    } else if (!entry.eventSource) {
      metrics.push({
        source: entry.function,
        service: entry.service,
        command: entry.action,
        ...(entry.capacityUnits !== undefined ? { capacityUnits: entry.capacityUnits } : {}),
      });
    }
  }
  return metrics;
}

async function clearMetrics(file: string) {
  await writeFile(file, '');
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/** What the transition processor asked of AWS, per committed transition, from the request log. */
interface RequestCounts {
  perTransition: Record<string, number>;
  writeUnits: number;
  readUnits: number;
  sends: number;
  handlerInvokes: number;
  /** Messages per processor invocation, as the local event source delivered them. */
  messagesPerInvocation: number;
  /** Processor invocations per transition: below 1 / messagesPerInvocation when steps run on. */
  invocationsPerTransition: number;
  /** Mean duration of a processor invocation (its batch), as the local event source timed it. */
  processorMs: number;
}

function countRequests(metrics: RequestMetric[], transitions: number): RequestCounts {
  const processor = metrics.filter((m) => m.source === 'transition');
  const counts: Counts = {};
  let writeUnits = 0;
  let readUnits = 0;
  let messages = 0;
  const durations: number[] = [];
  for (const m of processor) {
    const key = `${m.service}:${m.command}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (m.service === 'dynamodb') {
      if (WRITES.has(m.command)) writeUnits += m.capacityUnits ?? 0;
      else readUnits += m.capacityUnits ?? 0;
    }
    if (m.service === 'trigger') {
      messages += m.messages ?? 0;
      durations.push(m.durationMs ?? 0);
    }
  }
  const per = (n: number) => n / transitions;
  return {
    perTransition: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, per(v)])),
    writeUnits: per(writeUnits),
    readUnits: per(readUnits),
    // One request however many messages it carries (SqsStepQueue batches the sends of a batch of records).
    sends: per((counts['sqs:SendMessage'] ?? 0) + (counts['sqs:SendMessageBatch'] ?? 0)),
    handlerInvokes: per(counts['lambda:Invoke'] ?? 0),
    messagesPerInvocation: durations.length ? messages / durations.length : Number.NaN,
    invocationsPerTransition: per(durations.length),
    processorMs: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : Number.NaN,
  };
}

/**
 * AWS's price of one million transitions making `requests`, with the processor's invocations
 * billed as `billing` says: how many there are per transition and how long each runs. The
 * pollers of the event source make one ReceiveMessage and one DeleteMessageBatch per invocation.
 */
function price(
  requests: RequestCounts,
  billing: { invocationsPerTransition: number; processorMs: number },
  stepsPerMachine: number,
) {
  const invocations = billing.invocationsPerTransition;
  const indexUnits = ASSUMPTIONS.indexWriteUnitsPerMachine / stepsPerMachine;
  const cost = {
    dynamodb:
      (requests.writeUnits + indexUnits) * PRICES.dynamodb.perMillionWriteUnits +
      requests.readUnits * PRICES.dynamodb.perMillionReadUnits,
    sqs: (requests.sends + invocations * ASSUMPTIONS.pollerRequestsPerInvocation) * PRICES.sqs.perMillionRequests,
    lambda:
      (invocations + requests.handlerInvokes) * PRICES.lambda.perMillionRequests +
      (invocations * (Math.ceil(billing.processorMs) / 1000) + requests.handlerInvokes * ASSUMPTIONS.handlerSeconds) *
        ASSUMPTIONS.memoryGb *
        PRICES.lambda.perGbSecond *
        1e6,
  };
  return { ...cost, total: cost.dynamodb + cost.sqs + cost.lambda, indexUnits };
}

type Priced = ReturnType<typeof price>;

/** CPU milliseconds a process has used so far (Linux /proc; undefined elsewhere). */
async function processCpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return undefined;
  }
}

const ownCpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

async function main() {
  const started = Date.now();
  const metricsDir = args.endpoint ? undefined : await mkdtemp(join(tmpdir(), 'fsm-bench-metrics-'));
  const requestLog = metricsDir ? join(metricsDir, 'requests.jsonl') : undefined;
  let stack: LocalStack | undefined;
  let apiUrl = args.endpoint;
  if (!apiUrl) {
    useLocalCredentials();
    const ports = await freePorts();
    console.error('starting the local stack ...');
    stack = await startLocalStack({
      ports,
      buildDir: scratchBuildDir(`bench-${ports.http}`),
      params: { logLevel: 'ERROR' },
      requestLog,
    });
    apiUrl = stack.apiUrl;
  }
  try {
    console.error('warming up ...');
    await runWorkload(apiUrl, { machines: Math.min(machines, 20), steps: 2, timeoutMs: 60_000 });

    const singles: WorkloadResult[] = [];
    const loads: WorkloadResult[] = [];
    /** What the processor asked of AWS, one machine alone (low load) and all of them at once (at scale). */
    const lowLoad: RequestCounts[] = [];
    const atScale: RequestCounts[] = [];
    const limits: Awaited<ReturnType<typeof runLimit>>[] = [];
    /** CPU ms per committed transition: this process (the bench's API client) and sls offline (emulators, event source, handlers). */
    const cpu: { bench: number; offline: number }[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      console.error(`repetition ${rep}/${reps}: 1 machine x ${singleSteps} steps ...`);
      if (requestLog) await clearMetrics(requestLog);
      const single = await runWorkload(apiUrl, { machines: 1, steps: singleSteps, timeoutMs: 120_000 });
      singles.push(single);
      if (requestLog) lowLoad.push(countRequests(await readMetrics(requestLog), single.transitions));
      if (requestLog) await clearMetrics(requestLog);
      console.error(`repetition ${rep}/${reps}: ${machines} machines x ${steps} steps ...`);
      const cpuBefore = { own: ownCpuMs(), offline: await processCpuMs(stack?.offlinePid) };
      const load = await runWorkload(apiUrl, { machines, steps, timeoutMs: 240_000 });
      loads.push(load);
      const offlineAfter = await processCpuMs(stack?.offlinePid);
      cpu.push({
        bench: (ownCpuMs() - cpuBefore.own) / load.transitions,
        offline: offlineAfter === undefined ? Number.NaN : (offlineAfter - (cpuBefore.offline ?? 0)) / load.transitions,
      });
      if (requestLog) atScale.push(countRequests(await readMetrics(requestLog), load.transitions));
      if (stack && !costOnly) {
        console.error(`repetition ${rep}/${reps}: the limit, ${machines} x ${steps} straight from a loop ...`);
        limits.push(await runLimit(stack.env, { machines, steps }));
      }
    }
    /** Billing of the processor at scale, as measured: the median run's batch size and duration. */
    const scaleBilling = {
      invocationsPerTransition: median(atScale.map((c) => c.invocationsPerTransition)),
      processorMs: median(atScale.map((c) => c.processorMs)),
    };
    const lowLoadCosts = lowLoad.map((c) => price(c, c, singleSteps));
    const atScaleCosts = atScale.map((c) => price(c, c, steps));
    /** The requests of a small workload of its own, priced with the at-scale billing. */
    const costOf = async (workload: {
      steps: number;
      objectKb: number;
      configBytes?: number;
      machines?: number;
      delaySeconds?: number;
    }) => {
      if (!requestLog) return undefined;
      const count = workload.machines ?? sizeMachines;
      console.error(
        `cost: ${count} machines x ${workload.steps} steps${workload.delaySeconds ? ` of ${workload.delaySeconds} s` : ''}, ${workload.objectKb} KB object, ${workload.configBytes ? `${workload.configBytes / 1024} KB` : 'small'} config ...`,
      );
      await clearMetrics(requestLog);
      const run = await runWorkload(apiUrl, {
        machines: count,
        steps: workload.steps,
        timeoutMs: 120_000,
        objectBytes: workload.objectKb * 1024,
        configBytes: workload.configBytes,
        delaySeconds: workload.delaySeconds,
      });
      const metrics = await readMetrics(requestLog);
      const requests = countRequests(metrics, run.transitions);
      // Delayed steps go one message per invocation at any load: billed as they ran.
      const billing = workload.delaySeconds ? requests : scaleBilling;
      // Once per machine, by the API: its record and its definition (not in the per-transition figures).
      const addUnits = metrics
        .filter((m) => m.source === 'addMachine' && m.service === 'dynamodb' && WRITES.has(m.command))
        .reduce((sum, m) => sum + (m.capacityUnits ?? 0), 0);
      return {
        objectKb: workload.objectKb,
        requests,
        cost: price(requests, billing, workload.steps),
        addUnitsPerMachine: addUnits / count,
      };
    };
    const sizeCurve: { objectKb: number; requests: RequestCounts; cost: Priced; addUnitsPerMachine: number }[] = [];
    for (const objectKb of OBJECT_SIZES_KB) {
      const point = await costOf({ steps: sizeSteps, objectKb, configBytes: 2048 });
      if (point) sizeCurve.push(point);
    }
    /** The at-scale price again, for machines carrying a 1 KB object (the issue's yardstick). */
    const oneKbAtScale = await costOf({ steps, objectKb: 1 });
    /** A machine whose every step waits a second: no step runs on, each goes through SQS. */
    const delayedSteps = await costOf({ machines: 1, steps: quick ? 3 : 8, objectKb: 0, delaySeconds: 1 });
    const domainOpsPerSecond = benchDomainStep({ rounds: quick ? 2 : 5 });
    const kitStepsPerSecond = await benchTestKit({ rounds: quick ? 1 : 3 });
    // The packaged functions, measured after the stack has stopped working (init times are CPU-bound).
    let bundles: { rows: BundleRow[]; baselineMs: number } | undefined;
    if (!quick && !costOnly) {
      console.error('sls package --stage prod: zip size and module init per function ...');
      bundles = await measureProdBundles();
    }

    /** The curve's slope in write units per KB, and the object size above which Step Functions Standard is cheaper. */
    const curve = (() => {
      const first = sizeCurve[0];
      const last = sizeCurve.at(-1);
      if (!first || !last || first === last) return undefined;
      const slope = (last.requests.writeUnits - first.requests.writeUnits) / (last.objectKb - first.objectKb);
      const dollarsPerKb = (last.cost.total - first.cost.total) / (last.objectKb - first.objectKb);
      const crossoverKb =
        first.objectKb + (PRICES.stepFunctions.standardPerMillionTransitions - first.cost.total) / dollarsPerKb;
      return { first, slope, crossoverKb };
    })();
    const m = (values: number[]) => median(values);
    const tps = m(loads.map((l) => l.transitionsPerSecond));
    const limitTps = m(limits.map((l) => l.transitionsPerSecond));
    const lowLoadCost = lowLoadCosts.length ? m(lowLoadCosts.map((c) => c.total)) : Number.NaN;
    const atScaleCost = atScaleCosts.length ? m(atScaleCosts.map((c) => c.total)) : Number.NaN;
    const rows: [string, string, string][] = [
      [`1 machine: transition latency p50 (ms)`, fmt(m(singles.map((s) => s.latencyMs.p50))), '< 100'],
      [`1 machine: transition latency p95 (ms)`, fmt(m(singles.map((s) => s.latencyMs.p95))), ''],
      [`${machines} machines: committed transitions`, String(m(loads.map((l) => l.transitions))), ''],
      [`${machines} machines: wall time (s)`, fmt(m(loads.map((l) => l.wallSeconds)), 2), ''],
      [`${machines} machines: transitions/s`, fmt(tps), '>= 100'],
      [`${machines} machines: latency p50 (ms)`, fmt(m(loads.map((l) => l.latencyMs.p50))), ''],
      [`${machines} machines: latency p95 (ms)`, fmt(m(loads.map((l) => l.latencyMs.p95))), ''],
      [`${machines} machines: latency p99 (ms)`, fmt(m(loads.map((l) => l.latencyMs.p99))), ''],
      [`${machines} machines: add to first step p50 (ms)`, fmt(m(loads.map((l) => l.addToFirstStepMs))), ''],
      [`${machines} machines: CPU ms/transition, the bench (API client)`, fmt(m(cpu.map((c) => c.bench))), ''],
      [
        `${machines} machines: CPU ms/transition, sls offline (emulators, event source, handlers)`,
        fmt(m(cpu.map((c) => c.offline))),
        '',
      ],
      [`limit (same calls, no trigger): transitions/s`, fmt(limitTps), ''],
      [`ours as a share of the limit`, limits.length ? `${fmt((100 * tps) / limitTps, 0)} %` : 'n/a', '>= 50 %'],
      [`domain step() (ops/s)`, fmt(domainOpsPerSecond, 0), ''],
      [`test kit: no-op machine steps/s, one process`, fmt(kitStepsPerSecond, 0), '>= 20000'],
      [`AWS cost per million transitions, low load (USD)`, fmt(lowLoadCost, 2), '<= 5.00'],
      [
        `AWS cost per million transitions, low load, steps 1 s apart (USD)`,
        fmt(delayedSteps?.cost.total ?? Number.NaN, 2),
        '<= 5.00',
      ],
      [`AWS cost per million transitions, at scale (USD)`, fmt(atScaleCost, 2), '<= 2.50'],
      [
        `AWS cost per million transitions, at scale, 1 KB object (USD)`,
        fmt(oneKbAtScale?.cost.total ?? Number.NaN, 2),
        '<= 2.50',
      ],
      [
        `AWS cost per million transitions, at scale, 1 KB object, 2 KB config (USD)`,
        fmt(curve?.first.cost.total ?? Number.NaN, 2),
        '<= 2.00',
      ],
      [`write units per KB of object per transition (1-64 KB)`, fmt(curve?.slope ?? Number.NaN, 2), '<= 0.40'],
      [
        `object size above which Step Functions Standard is cheaper (KB)`,
        fmt(curve?.crossoverKb ?? Number.NaN, 0),
        '>= 100',
      ],
      ['Step Functions Standard, same (USD)', fmt(PRICES.stepFunctions.standardPerMillionTransitions, 2), ''],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(
      `\nserverless-statemachine benchmark: median of ${reps} run(s); ${cpus().length} cores, Node ${process.version}; ${machines} machines x ${steps} no-op steps\n`,
    );
    console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(10)}  target`);
    for (const [name, value, target] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(10)}  ${target}`);
    const lastLow = lowLoad.at(-1);
    const lastScale = atScale.at(-1);
    if (lastLow && lastScale) {
      console.log(
        `\nrequests per transition (transition processor, last run; prices as of ${PRICES_AS_OF}, us-east-1):`,
      );
      console.log(`  ${''.padEnd(48)} ${'low load'.padStart(9)} ${'at scale'.padStart(9)}`);
      const names = [...new Set([...Object.keys(lastLow.perTransition), ...Object.keys(lastScale.perTransition)])];
      const row = (name: string, low: number | undefined, scale: number | undefined) =>
        console.log(`  ${name.padEnd(48)} ${fmt(low ?? 0, 3).padStart(9)} ${fmt(scale ?? 0, 3).padStart(9)}`);
      for (const name of names) row(name, lastLow.perTransition[name], lastScale.perTransition[name]);
      row('dynamodb:writeUnits', lastLow.writeUnits, lastScale.writeUnits);
      row('dynamodb:readUnits', lastLow.readUnits, lastScale.readUnits);
      row(
        'messages per processor invocation (measured)',
        lastLow.messagesPerInvocation,
        lastScale.messagesPerInvocation,
      );
      row(
        'processor invocations per transition (measured)',
        lastLow.invocationsPerTransition,
        lastScale.invocationsPerTransition,
      );
      row('processor ms per invocation (measured mean)', lastLow.processorMs, lastScale.processorMs);
      for (const [label, costs] of [
        ['low load', lowLoadCosts],
        ['at scale', atScaleCosts],
      ] as const) {
        const c = costs.at(-1);
        if (c)
          console.log(
            `  cost/M ${label}: DynamoDB $${fmt(c.dynamodb, 2)} (incl. ${fmt(c.indexUnits, 2)} modelled index units), SQS $${fmt(c.sqs, 2)}, Lambda $${fmt(c.lambda, 2)}`,
          );
      }
      console.log(
        "  low load: the 1-machine run's invocations (steps due at once run on: several per invocation), billed as long as they took;\n" +
          `  at scale: the invocations per transition and durations of the ${machines}-machine run (local durations include this laptop's CPU queueing: an upper bound)`,
      );
    }
    if (sizeCurve.length) {
      console.log(
        `\ncost by object size (${sizeMachines} machines x ${sizeSteps} steps each, order-like objects, 2 KB config by ARN with catch and timeouts, priced at scale):`,
      );
      console.log(
        `  ${'object'.padEnd(8)} ${'write units/transition'.padStart(24)} ${'read units/transition'.padStart(22)} ${'USD per million'.padStart(16)} ${'add: write units/machine'.padStart(25)}`,
      );
      for (const point of sizeCurve)
        console.log(
          `  ${`${point.objectKb} KB`.padEnd(8)} ${fmt(point.requests.writeUnits, 2).padStart(24)} ${fmt(point.requests.readUnits, 2).padStart(22)} ${fmt(point.cost.total, 2).padStart(16)} ${fmt(point.addUnitsPerMachine, 1).padStart(25)}`,
        );
      if (curve)
        console.log(
          `  slope: ${fmt(curve.slope, 2)} write units per KB of object per transition; Step Functions Standard ($${fmt(PRICES.stepFunctions.standardPerMillionTransitions, 2)}/M up to 256 KB of state) is cheaper above about ${fmt(curve.crossoverKb, 0)} KB\n` +
            '  (the add writes the record and the definition once per machine, by the API: not in the per-transition figures)',
        );
    }

    if (bundles) console.log(`\n${formatBundles(bundles)}`);

    if (oneKbAtScale) {
      const { requests, cost } = oneKbAtScale;
      console.log(
        `\nat scale with a 1 KB object (${sizeMachines} machines x ${steps} steps, small config): ${fmt(requests.writeUnits, 2)} write units and ${fmt(requests.readUnits, 2)} read units per transition; DynamoDB $${fmt(cost.dynamodb, 2)}, SQS $${fmt(cost.sqs, 2)}, Lambda $${fmt(cost.lambda, 2)} per million`,
      );
    }

    const results = {
      date: new Date().toISOString(),
      quick,
      machines,
      steps,
      reps,
      singles,
      loads,
      limits,
      lowLoad,
      atScale,
      costs: { lowLoad: lowLoadCosts, atScale: atScaleCosts },
      sizeCurve,
      oneKbAtScale,
      delayedSteps,
      domainOpsPerSecond,
      bundles,
    };
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const file = join(__dirname, 'results', `${results.date.replaceAll(':', '-')}.json`);
    await writeFile(file, JSON.stringify(results, null, 2));
    console.log(`\nraw figures: ${file}; took ${fmt((Date.now() - started) / 1000)} s`);
    if (loads.some((l) => l.transitions === 0)) throw new Error('no transition completed');
  } finally {
    await stack?.stop();
    if (metricsDir) await rm(metricsDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`bench failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
