import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { LogRecord } from '../plugins/serverless-offline-emulators/src/recorder';
import { freePorts, type LocalStack, startLocalStack, useLocalCredentials } from '../scripts/localStack';
import { benchDomainStep } from './domainStep';
import { runLimit } from './limit';
import { ASSUMPTIONS, PRICES, PRICES_AS_OF } from './prices';
import { median } from './stats';
import { runWorkload, type WorkloadResult } from './workload';

/**
 * `npm run bench`: transitions per second, transition latency, the limit of the local stack and
 * the AWS cost per million transitions. `--quick` is the smoke test run by `npm test`.
 */
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    endpoint: { type: 'string' },
    machines: { type: 'string' },
    steps: { type: 'string' },
    reps: { type: 'string' },
  },
});
const quick = args.quick ?? false;
const machines = Number(args.machines ?? (quick ? 10 : 200));
const steps = Number(args.steps ?? (quick ? 3 : 10));
const reps = Number(args.reps ?? (quick ? 1 : 3));
const singleSteps = quick ? 5 : 30;

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

/** Requests the transition processor made per committed transition, and what they cost on AWS. */
function costModel(metrics: RequestMetric[], transitions: number, stepsPerMachine: number) {
  const processor = metrics.filter((m) => m.source === 'transition');
  const counts: Counts = {};
  let writeUnits = 0;
  let readUnits = 0;
  let triggerMessages = 0;
  const durations: number[] = [];
  for (const m of processor) {
    const key = `${m.service}:${m.command}`;
    counts[key] = (counts[key] ?? 0) + 1;
    if (m.service === 'dynamodb') {
      if (WRITES.has(m.command)) writeUnits += m.capacityUnits ?? 0;
      else readUnits += m.capacityUnits ?? 0;
    }
    if (m.service === 'trigger') {
      triggerMessages += m.messages ?? 0;
      durations.push(m.durationMs ?? 0);
    }
  }
  const per = (n: number) => n / transitions;
  const perTransition = Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, per(v)]));
  // Priced at one message per invocation, as at low load on AWS; batches under load cost less.
  const invocations = per(triggerMessages);
  const handlerInvokes = per(counts['lambda:Invoke'] ?? 0);
  const sends = per(counts['sqs:SendMessage'] ?? 0);
  const messages = per(triggerMessages);
  const indexUnits = ASSUMPTIONS.indexWriteUnitsPerMachine / stepsPerMachine;
  const cost = {
    dynamodb:
      (per(writeUnits) + indexUnits) * PRICES.dynamodb.perMillionWriteUnits +
      per(readUnits) * PRICES.dynamodb.perMillionReadUnits,
    sqs: (sends + messages * ASSUMPTIONS.eventSourceRequestsPerMessage) * PRICES.sqs.perMillionRequests,
    lambda:
      (invocations + handlerInvokes) * PRICES.lambda.perMillionRequests +
      (invocations * ASSUMPTIONS.processorSeconds + handlerInvokes * ASSUMPTIONS.handlerSeconds) *
        ASSUMPTIONS.memoryGb *
        PRICES.lambda.perGbSecond *
        1e6,
  };
  return {
    perTransition: {
      ...perTransition,
      'dynamodb:writeUnits': per(writeUnits),
      'dynamodb:readUnits': per(readUnits),
      'dynamodb:indexWriteUnits (modelled)': indexUnits,
      'sqs:Receive+Delete (modelled)': messages * ASSUMPTIONS.eventSourceRequestsPerMessage,
      'processor invocations, as measured (batched)': per(counts['trigger:transition'] ?? 0),
      'processor invocations, priced (1 per message)': invocations,
    },
    processorMedianMs: median(durations),
    costPerMillion: { ...cost, total: cost.dynamodb + cost.sqs + cost.lambda },
  };
}

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
      buildDir: `.esbuild-bench-${ports.http}`,
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
    const costs: ReturnType<typeof costModel>[] = [];
    const limits: Awaited<ReturnType<typeof runLimit>>[] = [];
    /** CPU ms per committed transition: this process (emulators, event source, bench) and sls offline. */
    const cpu: { emulators: number; offline: number }[] = [];
    for (let rep = 1; rep <= reps; rep++) {
      console.error(`repetition ${rep}/${reps}: 1 machine x ${singleSteps} steps ...`);
      singles.push(await runWorkload(apiUrl, { machines: 1, steps: singleSteps, timeoutMs: 120_000 }));
      if (requestLog) await clearMetrics(requestLog);
      console.error(`repetition ${rep}/${reps}: ${machines} machines x ${steps} steps ...`);
      const cpuBefore = { own: ownCpuMs(), offline: await processCpuMs(stack?.offlinePid) };
      const load = await runWorkload(apiUrl, { machines, steps, timeoutMs: 240_000 });
      loads.push(load);
      const offlineAfter = await processCpuMs(stack?.offlinePid);
      cpu.push({
        emulators: (ownCpuMs() - cpuBefore.own) / load.transitions,
        offline: offlineAfter === undefined ? Number.NaN : (offlineAfter - (cpuBefore.offline ?? 0)) / load.transitions,
      });
      if (requestLog) costs.push(costModel(await readMetrics(requestLog), load.transitions, steps));
      if (stack) {
        console.error(`repetition ${rep}/${reps}: the limit, ${machines} x ${steps} straight from a loop ...`);
        limits.push(await runLimit(stack.env, { machines, steps }));
      }
    }
    const domainOpsPerSecond = benchDomainStep({ rounds: quick ? 2 : 5 });

    const m = (values: number[]) => median(values);
    const tps = m(loads.map((l) => l.transitionsPerSecond));
    const limitTps = m(limits.map((l) => l.transitionsPerSecond));
    const cost = costs.length ? m(costs.map((c) => c.costPerMillion.total)) : Number.NaN;
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
      [`${machines} machines: CPU ms/transition, emulators + event source`, fmt(m(cpu.map((c) => c.emulators))), ''],
      [`${machines} machines: CPU ms/transition, sls offline + handlers`, fmt(m(cpu.map((c) => c.offline))), ''],
      [`limit (same calls, no trigger): transitions/s`, fmt(limitTps), ''],
      [`ours as a share of the limit`, limits.length ? `${fmt((100 * tps) / limitTps, 0)} %` : 'n/a', '>= 50 %'],
      [`domain step() (ops/s)`, fmt(domainOpsPerSecond, 0), ''],
      [`AWS cost per million transitions (USD)`, fmt(cost, 2), '<= 5.00'],
      ['Step Functions Standard, same (USD)', fmt(PRICES.stepFunctions.standardPerMillionTransitions, 2), ''],
    ];
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(
      `\nserverless-statemachine benchmark: median of ${reps} run(s); ${cpus().length} cores, Node ${process.version}; ${machines} machines x ${steps} no-op steps\n`,
    );
    console.log(`${'metric'.padEnd(width)}  ${'value'.padStart(10)}  target`);
    for (const [name, value, target] of rows) console.log(`${name.padEnd(width)}  ${value.padStart(10)}  ${target}`);
    if (costs.length) {
      const last = costs[costs.length - 1] as ReturnType<typeof costModel>;
      console.log(
        `\nrequests per transition (transition processor, last run; prices as of ${PRICES_AS_OF}, us-east-1):`,
      );
      for (const [name, value] of Object.entries(last.perTransition))
        console.log(`  ${name.padEnd(48)} ${fmt(value, 3)}`);
      console.log(
        `  cost/M: DynamoDB $${fmt(last.costPerMillion.dynamodb, 2)}, SQS $${fmt(last.costPerMillion.sqs, 2)}, Lambda $${fmt(last.costPerMillion.lambda, 2)} (processor ${ASSUMPTIONS.processorSeconds * 1000} ms billed; measured locally ${fmt(last.processorMedianMs)} ms)`,
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
      costs,
      domainOpsPerSecond,
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
