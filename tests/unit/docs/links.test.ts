import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { expect } from 'chai';

/**
 * The documents' links hold (README.md "Documentation"): every relative link of a Markdown file
 * names a file that exists and, with `#anchor`, one of its headings; every `docs/x.md#anchor` or
 * `docs/x.md "Heading"` a source file's comment names is a heading of that document; and the
 * README stays short enough to read in ten minutes.
 */

// Not in the mutation run's unit tests (stryker.config.mjs): it reads the
// whole repository, and no mutant of domain/ can change what it finds.
const ROOT = resolve(__dirname, '../../..');
const README_MAX_LINES = 250;
/** Folders that are not the project's own files. */
const SKIPPED = new Set(['node_modules', '.git', '.build', '.serverless', '.esbuild', 'coverage', '.local-data']);
const CODE = /\.(ts|js|mjs|cjs|yml|yaml|json)$/;

function filesUnder(root: string, keep: (name: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (SKIPPED.has(entry.name) || entry.name.startsWith('.stryker')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (keep(entry.name)) found.push(path);
    }
  };
  walk(root);
  return found.sort();
}

/** A Markdown document's lines, those of fenced code blocks blank. */
function outsideFences(markdown: string): string[] {
  let fence: string | undefined;
  return markdown.split('\n').map((line) => {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1];
    if (marker && (fence === undefined || fence === marker)) {
      fence = fence === undefined ? marker : undefined;
      return '';
    }
    return fence === undefined ? line : '';
  });
}

/** The lines that can hold links: no code blocks, no inline code. */
const prose = (markdown: string) => outsideFences(markdown).map((line) => line.replace(/`[^`]*`/g, '``'));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'. */
function slug(heading: string): string {
  return heading
    .trim()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of a Markdown document's headings (a repeated heading gets -1, -2, ... as on GitHub). */
function anchors(markdown: string): Set<string> {
  const seen = new Set<string>();
  for (const line of outsideFences(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    let anchor = base;
    for (let n = 1; seen.has(anchor); n++) anchor = `${base}-${n}`;
    seen.add(anchor);
  }
  return seen;
}

/** Relative link targets (`[text](target)`, images included) of a Markdown document. */
function links(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of prose(markdown)) {
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) targets.push(target);
    }
  }
  return targets;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let found = anchorCache.get(file);
  if (!found) {
    found = anchors(readFileSync(file, 'utf8'));
    anchorCache.set(file, found);
  }
  return found;
}

/** What is wrong with `target#anchor` seen from `from`: undefined when it resolves. */
function unresolved(from: string, target: string, anchor: string | undefined): string | undefined {
  if (!existsSync(target)) return `${relative(ROOT, from)}: ${relative(ROOT, target)} does not exist`;
  if (anchor === undefined || anchor === '' || statSync(target).isDirectory() || !target.endsWith('.md')) return;
  if (!anchorsOf(target).has(decodeURIComponent(anchor).toLowerCase())) {
    return `${relative(ROOT, from)}: ${relative(ROOT, target)} has no heading #${anchor}`;
  }
}

/** Every relative link of the given Markdown files that does not resolve. */
function brokenLinks(files: string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    for (const link of links(readFileSync(file, 'utf8'))) {
      const [path = '', anchor] = link.split('#', 2);
      const target = path === '' ? file : resolve(dirname(file), decodeURI(path));
      const problem = unresolved(file, target, anchor);
      if (problem) broken.push(`${problem} (link ${link})`);
    }
  }
  return broken;
}

/** Every `x.md#anchor` or `x.md "Heading"` in the given source files that names no heading of x.md. */
function brokenReferences(files: string[]): string[] {
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const refs = [
      ...[...text.matchAll(/([\w./-]*\.md)#([\w-]+)/g)].map((m) => [m[1], m[2]]),
      ...[...text.matchAll(/([\w./-]*\.md) "([^"\n]+)"/g)].map((m) => [m[1], slug(m[2] as string)]),
      ...[...text.matchAll(/\bREADME "([^"\n]+)"/g)].map((m) => ['README.md', slug(m[1] as string)]),
    ] as [string, string][];
    for (const [path, anchor] of refs) {
      const fromRoot = resolve(ROOT, path);
      const target = existsSync(fromRoot) ? fromRoot : resolve(dirname(file), path);
      const problem = unresolved(file, target, anchor);
      if (problem) broken.push(`${problem} (reference ${path} ${anchor})`);
    }
  }
  return broken;
}

const markdownFiles = () => filesUnder(ROOT, (name) => name.endsWith('.md'));

describe('the documentation', () => {
  it('slugs headings as GitHub does', () => {
    expect(slug('Try it (five minutes)')).to.equal('try-it-five-minutes');
    expect(slug('Calling a deployed API with `fsm`')).to.equal('calling-a-deployed-api-with-fsm');
    expect(slug('--persist')).to.equal('--persist');
    expect(slug('The [HTTP API](x.md) and errors')).to.equal('the-http-api-and-errors');
    expect([...anchors('# A\n## A\n```\n# not a heading\n```\n### B: c.d\n')]).to.deep.equal(['a', 'a-1', 'b-cd']);
  });

  it('finds a link to a missing file, a missing heading, and a reference to a missing heading', () => {
    const dir = mkdtempSync(join(tmpdir(), 'docs-test-'));
    try {
      writeFileSync(join(dir, 'a.md'), '# Title\n\n## Some part\n');
      writeFileSync(
        join(dir, 'b.md'),
        [
          '[fine](a.md#some-part) [self](#b) [missing file](c.md) [missing heading](a.md#other-part)',
          '# B',
          '`[not a link](nowhere.md)`',
          '```',
          '[not a link either](nowhere.md)',
          '```',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'code.ts'),
        '// see a.md#some-part and a.md "Some part"; a.md "No such part", a.md#nope\n',
      );
      expect(brokenLinks([join(dir, 'b.md')]).map((p) => p.replace(/^.*?: /, ''))).to.have.members([
        `${relative(ROOT, join(dir, 'c.md'))} does not exist (link c.md)`,
        `${relative(ROOT, join(dir, 'a.md'))} has no heading #other-part (link a.md#other-part)`,
      ]);
      expect(brokenReferences([join(dir, 'code.ts')])).to.have.length(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('links only to files and headings that exist (README.md, docs/, tests/, the plugins)', () => {
    const files = markdownFiles();
    expect(files.map((f) => relative(ROOT, f))).to.include.members([
      'README.md',
      'docs/design.md',
      'tests/README.md',
      'plugins/serverless-offline-emulators/README.md',
    ]);
    expect(brokenLinks(files)).to.deep.equal([]);
  });

  it("names, in the source files' comments, only document headings that exist", () => {
    const files = filesUnder(ROOT, (name) => CODE.test(name) && name !== 'package-lock.json').filter(
      (f) => f !== __filename,
    );
    expect(files.length).to.be.greaterThan(50);
    expect(brokenReferences([...files, join(ROOT, '.ci/run')])).to.deep.equal([]);
  });

  it(`keeps the README to at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').trimEnd().split('\n').length;
    expect(lines).to.be.at.most(README_MAX_LINES);
  });
});
