import { readFileSync } from 'node:fs';

/**
 * The unit tests' coverage gate: lines and statements 100 %, branches >= 95 %, over the domain,
 * the application layer and the HTTP mapping (package.json `test:unit`, after c8 wrote
 * coverage/coverage-final.json).
 *
 * tsx compiles each module to CommonJS with esbuild, whose module wrapper adds branches that V8
 * maps to the source's line 1, column 0 and reports as never taken, whatever the tests do: those
 * are not counted. Every other branch is, including the export getters esbuild adds, which count
 * as not taken for exports no test reaches through the module.
 */
interface Location {
  start: { line: number; column: number };
  end: { line: number; column: number };
}
interface FileCoverage {
  path: string;
  s: Record<string, number>;
  b: Record<string, number[]>;
  branchMap: Record<string, { loc: Location }>;
}

const GATE = { lines: 100, branches: 95 };
const files = Object.values(
  JSON.parse(readFileSync('coverage/coverage-final.json', 'utf8')) as Record<string, FileCoverage>,
);

/** esbuild's `__copyProps` helper, which every module has and V8 maps to line 1, column 0. */
function isWrapperArtifact({ start }: Location): boolean {
  return start.line === 1 && start.column === 0;
}

let statements = 0;
let coveredStatements = 0;
let branches = 0;
let coveredBranches = 0;
const uncovered: string[] = [];
for (const file of files) {
  for (const count of Object.values(file.s)) {
    statements++;
    if (count > 0) coveredStatements++;
  }
  for (const [key, { loc }] of Object.entries(file.branchMap)) {
    const counts = file.b[key] ?? [];
    if (counts.every((count) => count === 0) && isWrapperArtifact(loc)) continue;
    branches += counts.length;
    coveredBranches += counts.filter((count) => count > 0).length;
    if (counts.includes(0)) uncovered.push(`${file.path}:${loc.start.line}:${loc.start.column + 1}`);
  }
}
const percent = (covered: number, total: number) => (total === 0 ? 100 : (100 * covered) / total);
const linePercent = percent(coveredStatements, statements);
const branchPercent = percent(coveredBranches, branches);
console.log(
  `coverage gate: statements ${linePercent.toFixed(2)} % (${coveredStatements}/${statements}), ` +
    `branches ${branchPercent.toFixed(2)} % (${coveredBranches}/${branches}) without esbuild's wrapper`,
);
for (const place of uncovered) console.log(`  branch not taken: ${place}`);
if (linePercent < GATE.lines || branchPercent < GATE.branches) {
  console.error(`coverage gate failed: needs statements ${GATE.lines} %, branches ${GATE.branches} %`);
  process.exit(1);
}
