import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
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

const { bundleInOnePass, esbuildOptions } = require('../../../plugins/one-esbuild-pass') as {
  bundleInOnePass: (this: Bundler) => Promise<void>;
  esbuildOptions: (buildOptions: Record<string, unknown>, plugins: unknown[]) => esbuild.BuildOptions;
};
const { lazyPackages } = require('../../../resources/esbuild-plugins.js') as {
  lazyPackages: (packages: string[]) => esbuild.Plugin;
};
/** The esbuild plugins serverless.yml gives, with a small package of the fixture's as the lazy one. */
const plugins = [lazyPackages(['tiny-lazy'])];

describe('one-esbuild-pass plugin', () => {
  // Inside the project, so that the fixture's imports resolve from its node_modules.
  const dir = join(__dirname, '..', '..', '..', '.build', `one-pass-test-${process.pid}`);
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
  /** Every bundler a test made: their build contexts are disposed after it, even when it fails. */
  let made: Bundler[] = [];
  const newBundler = (overrides: Partial<Bundler> = {}): Bundler => {
    const bundler: Bundler = {
      buildOptions,
      buildDirPath: file('out'),
      plugins,
      prepare() {},
      functionEntries: [
        { entry: 'a/one.ts', func: {}, functionAlias: 'one' },
        { entry: 'b/two.ts', func: {}, functionAlias: 'two' },
        { entry: 'a/one.ts', func: {}, functionAlias: 'oneAgain' },
      ],
      ...overrides,
    };
    made.push(bundler);
    return bundler;
  };
  afterEach(async () => {
    await Promise.all(made.flatMap((b) => Object.values(b.buildCache ?? {}).map((built) => built.context.dispose())));
    made = [];
  });

  before(async () => {
    await mkdir(file('a'), { recursive: true });
    await mkdir(file('b'), { recursive: true });
    await mkdir(file('node_modules/tiny-lazy'), { recursive: true });
    await writeFile(
      file('node_modules/tiny-lazy/package.json'),
      '{ "name": "tiny-lazy", "type": "module", "main": "index.js" }',
    );
    await writeFile(file('node_modules/tiny-lazy/index.js'), 'export const render = () => "drawn by tiny-lazy";\n');
    await writeFile(
      file('shared.ts'),
      'export const shared = (n: number) => n * 2;\nexport const unused = () => "not in any bundle";\n',
    );
    await writeFile(
      file('a/one.ts'),
      "import { shared } from '../shared';\nexport const handler = async () => ({ n: shared(1), svg: (await import('tiny-lazy')).render() });\n",
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

  it('refuses serverless-esbuild settings it would not honour, rather than ignore them', async () => {
    for (const setting of ['skipRebuild', 'metafile']) {
      const bundler = { ...newBundler(), buildOptions: { ...buildOptions, [setting]: true } };
      let refused: unknown;
      await bundleInOnePass.call(bundler).catch((error: unknown) => {
        refused = error;
      });
      expect(String(refused)).to.include(`custom.esbuild.${setting}`);
    }
  });

  it('writes, in one build, the bundles the per-handler builds wrote, where serverless-esbuild looks for them', async () => {
    const onePass = newBundler();
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
    expect(built.one).to.include('./one.tiny-lazy.mjs').and.not.include('__lazy__');
    expect(built.two).to.not.include('tiny-lazy').and.not.include('not in any bundle');
    expect(await readFile(file('out/a/one.tiny-lazy.mjs'), 'utf8')).to.include('drawn by tiny-lazy');
    expect(built.one).to.not.include('drawn by tiny-lazy');
    // and the handler finds it where the import now points
    const { handler } = require(file('out/a/one.js')) as { handler: () => Promise<unknown> };
    expect(await handler()).to.deep.equal({ n: 2, svg: 'drawn by tiny-lazy' });

    for (const entry of ['a/one.ts', 'b/two.ts']) {
      await esbuild.build({
        ...esbuildOptions(buildOptions, plugins),
        entryPoints: [entry],
        outdir: file(join('alone', dirname(entry))),
      });
    }
    expect(await readFile(file('alone/a/one.js'), 'utf8')).to.equal(built.one);
    expect(await readFile(file('alone/b/two.js'), 'utf8')).to.equal(built.two);
  });

  it('rebuilds with the same context when the watcher asks again, and disposes it once however often it is told to', async () => {
    const onePass = newBundler();
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
  });

  describe('output cache', () => {
    let builds = 0;
    const counting: esbuild.Plugin = {
      name: 'count-builds',
      setup(build) {
        build.onStart(() => {
          builds++;
        });
      },
    };
    /** A bundler whose esbuild plugins came from a file, as serverless.yml's do: the cache needs one to hash. */
    const cachedBundler = (out: string, options: Record<string, unknown> = {}, extra: esbuild.Plugin[] = []) =>
      newBundler({
        buildDirPath: file(out),
        buildOptions: { ...buildOptions, plugins: 'plugins.js', ...options },
        plugins: [...plugins, counting, ...extra],
      });
    const bundleInto = (out: string, options: Record<string, unknown> = {}) =>
      bundleInOnePass.call(cachedBundler(out, options));
    const outputs = async (out: string) =>
      Promise.all(
        ['a/one.js', 'a/one.tiny-lazy.mjs', 'b/two.js'].map((path) => readFile(file(join(out, path)), 'utf8')),
      );
    const cacheDir = file('.build/one-pass-cache');
    /** Writes a fixture file as if saved a minute ago: a build keeps nothing read from a file changed since it began. */
    const writeEarlier = async (path: string, content: string) => {
      await writeFile(file(path), content);
      const aMinuteAgo = new Date(Date.now() - 60_000);
      await utimes(file(path), aMinuteAgo, aMinuteAgo);
    };
    let saved: Record<string, string> = {};
    const fixtureFiles = ['shared.ts', 'node_modules/tiny-lazy/index.js', 'a/one.ts', 'b/two.ts'];

    before(async () => {
      await writeEarlier('plugins.js', '// where serverless-esbuild would load the plugins from\n');
      for (const path of fixtureFiles) await writeEarlier(path, await readFile(file(path), 'utf8'));
      saved = Object.fromEntries(
        await Promise.all(fixtureFiles.map(async (p) => [p, await readFile(file(p), 'utf8')])),
      );
    });
    beforeEach(async () => {
      await rm(cacheDir, { recursive: true, force: true });
      for (const [path, content] of Object.entries(saved)) await writeEarlier(path, content);
      builds = 0;
    });
    after(async () => {
      for (const [path, content] of Object.entries(saved)) await writeFile(file(path), content);
    });

    it('copies the outputs of an earlier build with the same options and files instead of building; the watcher still rebuilds', async () => {
      await bundleInto('first');
      const restored = cachedBundler('again');
      await bundleInOnePass.call(restored);
      expect(builds).to.equal(1);
      expect(await outputs('again')).to.deep.equal(await outputs('first'));

      // A file saved under `sls offline`: its watcher calls bundle again, which builds on the context.
      await writeEarlier(
        'b/two.ts',
        "import { shared } from '../shared';\nexport const handler = async () => shared(4) + 700;\n",
      );
      await bundleInOnePass.call(restored);
      expect(builds).to.equal(2);
      expect((await outputs('again'))[2]).to.include('700');
    });

    it("builds again when an input changed (a lazy package's too), a project setting, a file beside an input, or the options", async () => {
      await bundleInto('first');
      await writeEarlier('node_modules/tiny-lazy/index.js', 'export const render = () => "drawn anew";\n');
      await bundleInto('lazyChanged');
      expect(builds).to.equal(2);
      expect((await outputs('lazyChanged'))[1]).to.include('drawn anew');
      await bundleInto('lazyChangedAgain');
      expect(builds).to.equal(2);
      expect(await outputs('lazyChangedAgain')).to.deep.equal(await outputs('lazyChanged'));

      await writeEarlier('tsconfig.json', '{ "compilerOptions": { "useDefineForClassFields": false } }\n');
      await bundleInto('tsconfigChanged');
      expect(builds).to.equal(3);
      // A new file where an import looks can change what it resolves to.
      await writeEarlier('a/beside.ts', 'export {};\n');
      await bundleInto('fileAdded');
      expect(builds).to.equal(4);
      await bundleInto('notMinified', { minify: false });
      expect(builds).to.equal(5);
      expect((await outputs('notMinified'))[2]).to.not.equal((await outputs('fileAdded'))[2]);
      await rm(file('a/beside.ts'));
      await rm(file('tsconfig.json'));
    });

    it('keeps nothing from a build during which an input changed', async () => {
      const touching: esbuild.Plugin = {
        name: 'touch-an-input',
        setup(build) {
          build.onEnd(async () => {
            const now = new Date();
            await utimes(file('shared.ts'), now, now);
          });
        },
      };
      await bundleInOnePass.call(cachedBundler('touched', {}, [touching]));
      await bundleInto('afterTouch');
      expect(builds).to.equal(2);
    });

    it('keeps nothing for esbuild plugins that came from no file (their code could change unseen)', async () => {
      const bundleWithInlinePlugins = (out: string) =>
        bundleInOnePass.call(newBundler({ buildDirPath: file(out), plugins: [...plugins, counting] }));
      await bundleWithInlinePlugins('inline1');
      await bundleWithInlinePlugins('inline2');
      expect(builds).to.equal(2);
    });

    it('builds once for bundlers that start together, and takes over the lock of a builder that died', async () => {
      await Promise.all([bundleInto('together1'), bundleInto('together2'), bundleInto('together3')]);
      expect(builds).to.equal(1);
      for (const out of ['together2', 'together3']) {
        expect(await outputs(out)).to.deep.equal(await outputs('together1'));
      }

      // A lock whose process is gone (an `sls offline start` stopped mid-build) holds nobody back.
      const [key] = (await readdir(cacheDir)).filter((name) => /^[0-9a-f]{64}$/.test(name));
      await writeEarlier('shared.ts', 'export const shared = (n: number) => n * 6;\n');
      const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
      await writeFile(join(cacheDir, `${key}.lock`), String(deadPid));
      await bundleInto('afterDeath');
      expect(builds).to.equal(2);
      expect(await readdir(cacheDir)).to.not.include(`${key}.lock`);
    });
  });
});
