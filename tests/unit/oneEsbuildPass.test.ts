import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expect } from 'chai';
import * as esbuild from 'esbuild';

interface Bundler {
  buildOptions: Record<string, unknown>;
  buildDirPath: string;
  plugins: esbuild.Plugin[];
  functionEntries: { entry: string; func: object | null; functionAlias: string }[];
  prepare(): void;
  buildCache?: Record<string, { bundlePath: string; context: { dispose(): Promise<void> } }>;
  buildResults?: { bundlePath: string; functionAlias: string }[];
}

const { bundleInOnePass, esbuildOptions } = require('../../plugins/one-esbuild-pass') as {
  bundleInOnePass: (this: Bundler) => Promise<void>;
  esbuildOptions: (buildOptions: Record<string, unknown>, plugins: unknown[]) => esbuild.BuildOptions;
};
const lazyPackages = require('../../resources/esbuild-plugins.js') as esbuild.Plugin[];

describe('one-esbuild-pass plugin', () => {
  // Inside the project, so that the fixture's imports resolve from its node_modules.
  const dir = join(__dirname, '..', '..', '.build', `one-pass-test-${process.pid}`);
  const file = (path: string) => join(dir, path);
  const buildOptions = {
    // esbuild's own options, as in serverless.yml's custom.esbuild ...
    bundle: true,
    minify: true,
    target: 'node22',
    platform: 'node',
    format: 'cjs',
    absWorkingDir: dir,
    // ... and serverless-esbuild's, which are not esbuild's.
    concurrency: Number.POSITIVE_INFINITY,
    exclude: [],
    outputFileExtension: '.js',
    outputWorkFolder: '.esbuild',
    disposeContext: true,
  };
  const bundler = (): Bundler => ({
    buildOptions,
    buildDirPath: file('out'),
    plugins: lazyPackages,
    prepare() {},
    functionEntries: [
      { entry: 'a/one.ts', func: {}, functionAlias: 'one' },
      { entry: 'b/two.ts', func: {}, functionAlias: 'two' },
      { entry: 'a/one.ts', func: {}, functionAlias: 'oneAgain' },
    ],
  });

  before(async () => {
    await mkdir(file('a'), { recursive: true });
    await mkdir(file('b'), { recursive: true });
    await writeFile(
      file('shared.ts'),
      'export const shared = (n: number) => n * 2;\nexport const unused = () => "not in any bundle";\n',
    );
    await writeFile(
      file('a/one.ts'),
      "import { shared } from '../shared';\nexport const handler = async () => ({ n: shared(1), svg: typeof (await import('beautiful-mermaid')).renderMermaidSVG });\n",
    );
    await writeFile(
      file('b/two.ts'),
      "import { shared } from '../shared';\nexport const handler = async () => shared(2);\n",
    );
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("passes esbuild only esbuild's options, with the exclusions as externals", () => {
    const options = esbuildOptions(
      { ...buildOptions, external: ['pg'], exclude: ['@aws-sdk/*'], outputFileExtension: '.cjs' },
      [],
    );
    expect(Object.keys(options)).to.have.members([
      'bundle',
      'minify',
      'target',
      'platform',
      'format',
      'absWorkingDir',
      'external',
      'plugins',
      'outExtension',
    ]);
    expect(options.external).to.deep.equal(['pg', '@aws-sdk/*']);
    expect(options.outExtension).to.deep.equal({ '.js': '.cjs' });
  });

  it('writes, in one build, the bundles the per-handler builds wrote, where serverless-esbuild looks for them', async () => {
    const onePass = bundler();
    await bundleInOnePass.call(onePass);
    const built = {
      one: await readFile(file('out/a/one.js'), 'utf8'),
      two: await readFile(file('out/b/two.js'), 'utf8'),
    };
    expect(onePass.buildResults).to.deep.equal([
      { bundlePath: 'a/one.js', func: {}, functionAlias: 'one' },
      { bundlePath: 'b/two.js', func: {}, functionAlias: 'two' },
      { bundlePath: 'a/one.js', func: {}, functionAlias: 'oneAgain' },
    ]);
    expect(Object.keys(onePass.buildCache ?? {})).to.deep.equal(['a/one.ts', 'b/two.ts']);
    // Only the handler that imports the lazy package points at a file of its own, next to it.
    expect(built.one).to.include('./one.beautiful-mermaid.mjs').and.not.include('__lazy__');
    expect(built.two).to.not.include('beautiful-mermaid').and.not.include('not in any bundle');
    expect((await readFile(file('out/a/one.beautiful-mermaid.mjs'), 'utf8')).length).to.be.greaterThan(100_000);

    for (const entry of ['a/one.ts', 'b/two.ts']) {
      await esbuild.build({
        ...esbuildOptions(buildOptions, lazyPackages),
        entryPoints: [entry],
        outdir: file(join('alone', dirname(entry))),
      });
    }
    expect(await readFile(file('alone/a/one.js'), 'utf8')).to.equal(built.one);
    expect(await readFile(file('alone/b/two.js'), 'utf8')).to.equal(built.two);
    await onePass.buildCache?.['a/one.ts']?.context.dispose();
  });

  it('rebuilds with the same context when the watcher asks again, and disposes it once however often it is told to', async () => {
    const onePass = bundler();
    await bundleInOnePass.call(onePass);
    const context = onePass.buildCache?.['a/one.ts']?.context;
    expect(onePass.buildCache?.['b/two.ts']?.context).to.equal(context);

    await writeFile(
      file('b/two.ts'),
      "import { shared } from '../shared';\nexport const handler = async () => shared(3) + 40;\n",
    );
    await bundleInOnePass.call(onePass);
    expect(onePass.buildCache?.['a/one.ts']?.context).to.equal(context);
    expect(await readFile(file('out/b/two.js'), 'utf8')).to.include('40');

    await Promise.all(Object.values(onePass.buildCache ?? {}).map((built) => built.context.dispose()));
    await bundleInOnePass.call(onePass);
    expect(onePass.buildCache?.['a/one.ts']?.context).to.not.equal(context);
    await onePass.buildCache?.['a/one.ts']?.context.dispose();
  });
});
