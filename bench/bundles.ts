import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import { SLS_BIN, scratchBuildDir } from '../tests/helpers/localStack';
import { median } from './stats';

/**
 * `npm run bench:bundles`: packages the prod stage (or reads `--dir`, the output of
 * `sls package --package DIR`) and prints each function's zip size and module init time: the
 * median of 10 fresh `node` processes each timing `require()` of the built handler file, next
 * to an empty handler's as the baseline. The budgets are the ones the packaging test holds.
 */
export const MAX_ZIP_BYTES = 1024 * 1024;
export const MAX_INIT_MS = 150;
const INIT_RUNS = 10;

const run = promisify(execFile);
const PROJECT_DIR = resolve(__dirname, '..');

/** One entry of a zip file (only what this script needs: stored or deflated files). */
export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** The files of a zip, read from its central directory (the format `sls package` writes). */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip file');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + compressed);
    if (!name.endsWith('/')) entries.push({ name, data: method === 0 ? raw : inflateRawSync(raw) });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

export interface FunctionBundle {
  /** The function's name in serverless.yml. */
  name: string;
  zip: string;
  zipBytes: number;
  /** Path of the handler file inside the zip. */
  handlerFile: string;
  /** The handler's export name. */
  handler: string;
  files: ZipEntry[];
}

/** Every function's zip in a `sls package` output directory, matched to its handler file. */
export async function functionBundles(packageDir: string): Promise<FunctionBundle[]> {
  const state = JSON.parse(await readFile(join(packageDir, 'serverless-state.json'), 'utf8'));
  const functions = state.service.functions as Record<string, { handler: string }>;
  const bundles: FunctionBundle[] = [];
  for (const [name, fn] of Object.entries(functions)) {
    const zip = join(packageDir, `${name}.zip`);
    const data = await readFile(zip);
    const dot = fn.handler.lastIndexOf('.');
    const handlerFile = `${fn.handler.slice(0, dot)}.js`;
    bundles.push({
      name,
      zip,
      zipBytes: data.length,
      handlerFile,
      handler: fn.handler.slice(dot + 1),
      files: readZip(data),
    });
  }
  return bundles;
}

/** Milliseconds one fresh `node` takes to require `file` (the module's own init, not node's start). */
async function requireMs(file: string): Promise<number> {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const { stdout } = await run(process.execPath, ['-e', script], {
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'WARN' },
  });
  return Number(stdout);
}

/** `runs` init times of the handler file, each in a fresh process. */
export async function initTimes(file: string, runs = INIT_RUNS): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await requireMs(file));
  return times;
}

/** Writes a bundle's files under `dir` and returns the path of its handler file there. */
export async function extract(bundle: FunctionBundle, dir: string): Promise<string> {
  for (const entry of bundle.files) {
    const path = join(dir, entry.name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, entry.data);
  }
  return join(dir, bundle.handlerFile);
}

/** `sls package --stage prod` into a new temporary directory. */
export async function packageProd(outDir: string, buildDir = scratchBuildDir('bundles')): Promise<void> {
  try {
    await run(process.execPath, [SLS_BIN, 'package', '--stage', 'prod', '--package', outDir], {
      cwd: PROJECT_DIR,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_REGION: 'us-east-1',
        FSM_BUILD_DIR: buildDir,
      },
    });
  } finally {
    await rm(join(PROJECT_DIR, buildDir), { recursive: true, force: true });
  }
}

export interface BundleRow {
  name: string;
  zipBytes: number;
  /** Median of the runs. */
  initMs: number;
  /** Fastest of the runs: closest to an idle machine when others load it. */
  minInitMs: number;
}

/** Size and init time of every function in a package directory, and the empty handler's init time. */
export async function measureBundles(packageDir: string): Promise<{ rows: BundleRow[]; baselineMs: number }> {
  const row = async (name: string, zipBytes: number, file: string): Promise<BundleRow> => {
    const times = await initTimes(file);
    return { name, zipBytes, initMs: median(times), minInitMs: Math.min(...times) };
  };
  const work = await mkdtemp(join(tmpdir(), 'fsm-bundles-'));
  try {
    const empty = join(work, 'empty.js');
    await writeFile(empty, 'exports.handler = async () => ({});\n');
    const baselineMs = (await row('(empty)', 0, empty)).initMs;
    const rows: BundleRow[] = [];
    for (const bundle of await functionBundles(packageDir)) {
      rows.push(await row(bundle.name, bundle.zipBytes, await extract(bundle, join(work, bundle.name))));
    }
    return { rows, baselineMs };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function formatBundles({ rows, baselineMs }: { rows: BundleRow[]; baselineMs: number }): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
  const lines = [
    `function zips (budget ${kb(MAX_ZIP_BYTES)}) and module init, median of ${INIT_RUNS} (budget ${MAX_INIT_MS} ms; empty handler ${baselineMs.toFixed(2)} ms)`,
    `${'function'.padEnd(16)} ${'zip'.padStart(8)} ${'init'.padStart(10)} ${'x empty'.padStart(8)} ${'fastest'.padStart(10)}`,
  ];
  for (const row of rows) {
    const over = row.zipBytes > MAX_ZIP_BYTES || row.initMs > MAX_INIT_MS ? '  OVER BUDGET' : '';
    lines.push(
      `${row.name.padEnd(16)} ${kb(row.zipBytes).padStart(8)} ${`${row.initMs.toFixed(1)} ms`.padStart(10)} ${(row.initMs / baselineMs).toFixed(0).padStart(8)} ${`${row.minInitMs.toFixed(1)} ms`.padStart(10)}${over}`,
    );
  }
  return lines.join('\n');
}

/** Packages the prod stage into a scratch directory and measures its functions. */
export async function measureProdBundles(): Promise<{ rows: BundleRow[]; baselineMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'fsm-package-'));
  try {
    await packageProd(dir);
    return await measureBundles(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main() {
  const { values } = parseArgs({ options: { dir: { type: 'string' } } });
  process.stderr.write(values.dir ? `measuring ${values.dir} ...\n` : 'sls package --stage prod ...\n');
  if (values.dir && !(await stat(join(values.dir, 'serverless-state.json')).catch(() => undefined))) {
    throw new Error(`${values.dir} is not an 'sls package' output directory`);
  }
  const result = values.dir ? await measureBundles(values.dir) : await measureProdBundles();
  console.log(formatBundles(result));
  // Init times scale with whatever else runs: say how busy the machine was.
  console.log(`load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores, node ${process.version}`);
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
