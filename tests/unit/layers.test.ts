import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { expect } from 'chai';

/**
 * The dependency rule holds: every import of every source file is one its folder's row of the
 * "may import" table of docs/architecture.md ("Layers") allows. The table is the rule; this test
 * only reads it, so the rule is written once.
 */

const ROOT = resolve(__dirname, '../..');
const DOC = 'docs/architecture.md';
const SOURCE = /\.(ts|js|mjs|cjs)$/;

/** One row: the folders (ending in `/`) or files it is about, and what they may import. */
interface Row {
  paths: string[];
  /** Folders and files of the repository, and packages, it may import besides its own paths. */
  allowed: string[];
  anyPackage: boolean;
  anything: boolean;
}

const ticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1] as string);

/** The rows of the table whose header has a "may import" column. */
function readRules(markdown: string): Row[] {
  const lines = markdown.split('\n');
  const header = lines.findIndex((line) => line.startsWith('|') && /\|\s*may import\s*\|/.test(line));
  if (header < 0) throw new Error(`${DOC} has no "may import" table`);
  const column = (line: string) =>
    line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
  const target = column(lines[header] as string).indexOf('may import');
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const cells = column(line);
    const allowed = cells[target] ?? '';
    rows.push({
      paths: ticked(cells[0] ?? ''),
      allowed: ticked(allowed),
      anyPackage: /\bany package\b/.test(allowed),
      anything: /\banything\b/.test(allowed),
    });
  }
  return rows;
}

const without = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
const IMPORTS = [
  /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
];

/** What a source file imports, as written: static, dynamic and `require`d, type-only included. */
function importsOf(text: string): string[] {
  const code = without(text);
  return IMPORTS.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1] as string));
}

/** A relative import as a path of the repository (with the file's extension when one exists). */
function resolveImport(root: string, file: string, specifier: string): string {
  const base = normalize(join(dirname(file), specifier));
  const found = ['', '.ts', '.js', '.mjs', '.cjs', '/index.ts', '/index.js'].find((suffix) =>
    existsSync(join(root, base + suffix)),
  );
  return found === undefined ? base : base + found;
}

const covers = (path: string, target: string) => (path.endsWith('/') ? target.startsWith(path) : target === path);

/** The row about `file`: the one of its longest path. */
function rowOf(rules: Row[], file: string): Row | undefined {
  let best: { row: Row; length: number } | undefined;
  for (const row of rules) {
    for (const path of row.paths) {
      if (covers(path, file) && path.length > (best?.length ?? -1)) best = { row, length: path.length };
    }
  }
  return best?.row;
}

const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

/** Each import of `file` (a path of the repository) its row does not allow, as "file -> import". */
function breaks(rules: Row[], file: string, text: string, root = ROOT): string[] {
  const row = rowOf(rules, file);
  if (!row) return [`${file}: no row of the table is about it`];
  if (row.anything) return [];
  const found: string[] = [];
  for (const specifier of importsOf(text)) {
    if (specifier.startsWith('.')) {
      const target = resolveImport(root, file, specifier);
      if (rowOf(rules, target) === row) continue;
      if (!row.allowed.some((path) => covers(path, target))) found.push(`${file} -> ${target}`);
    } else if (!row.anyPackage && !row.allowed.includes(packageOf(specifier)) && !row.allowed.includes(specifier)) {
      found.push(`${file} -> package ${specifier}`);
    }
  }
  return found;
}

/** The project's own source files (not dependencies, build outputs or dot-folders). */
function sourceFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (SOURCE.test(entry.name)) found.push(relative(root, path));
    }
  };
  walk(root);
  return found.sort();
}

describe('the dependency rule (docs/architecture.md "Layers")', () => {
  const rules = readRules(readFileSync(join(ROOT, DOC), 'utf8'));

  it('is broken by no import of any source file', () => {
    const files = sourceFiles(ROOT);
    expect(files.length).to.be.above(100);
    const found = files.flatMap((file) => breaks(rules, file, readFileSync(join(ROOT, file), 'utf8')));
    expect(found, 'imports the table does not allow').to.deep.equal([]);
  });

  it('catches an import up a layer, into an adapter, a package the domain may not load, and an unlisted folder', () => {
    expect(breaks(rules, 'domain/machine.ts', "import { x } from '../handlers/application/ports';")).to.deep.equal([
      'domain/machine.ts -> handlers/application/ports.ts',
    ]);
    expect(
      breaks(
        rules,
        'handlers/entrypoints/http/getMachine.ts',
        "import type { A } from '../../adapters/sqs/stepQueue';",
      ),
    ).to.deep.equal(['handlers/entrypoints/http/getMachine.ts -> handlers/adapters/sqs/stepQueue.ts']);
    expect(breaks(rules, 'domain/diagram.ts', "const m = await import('beautiful-mermaid');")).to.deep.equal([
      'domain/diagram.ts -> package beautiful-mermaid',
    ]);
    expect(breaks(rules, 'nowhere/file.ts', '')).to.deep.equal(['nowhere/file.ts: no row of the table is about it']);
  });

  it('lets a file import its own folder, the rows its row names, and ignores imports in comments', () => {
    expect(breaks(rules, 'handlers/application/apiStep.ts', "import { a } from './commitExecutor';")).to.deep.equal([]);
    expect(breaks(rules, 'handlers/wiring/read.ts', "import { b } from '../adapters/dynamodb/client';")).to.deep.equal(
      [],
    );
    expect(breaks(rules, 'domain/step.ts', "// import { c } from '../handlers/wiring/services';")).to.deep.equal([]);
  });
});
