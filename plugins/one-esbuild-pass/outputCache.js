// The outputs of one-esbuild-pass's first build in a process, kept under
// `.build/one-pass-cache/<key>/` with a hash of every file the build read (its metafile's
// inputs). A later `sls offline start` or `sls package` whose options, entries and input files
// are all the same copies them instead of building again: every test stack, each `sls package`
// of the same stage, and a user's second `npm start` skip the ~3 CPU-s of esbuild.
//
// The key covers what the inputs cannot show: esbuild's version, the options, the entries, the
// working folder, and the source of this plugin and of the esbuild plugins file. The inputs
// cover the rest, node_modules included (the lazy packages' builds add theirs to the metafile).
const { createHash, randomUUID } = require('node:crypto');
const { cp, mkdir, readFile, readdir, rename, rm, stat, writeFile } = require('node:fs/promises');
const { dirname, join, relative, resolve } = require('node:path');
const esbuild = require('esbuild');

/** Entries kept; older ones (by when they were written) are removed. */
const KEPT_ENTRIES = 8;

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** A hash of the file's bytes; files that cannot be read (a namespace, a removed file) hash as absent. */
async function hashOfFile(path) {
  try {
    return sha256(await readFile(path));
  } catch {
    return 'absent';
  }
}

async function hashesOf(paths, workingDir) {
  const hashes = await Promise.all(paths.map((path) => hashOfFile(resolve(workingDir, path))));
  return Object.fromEntries(paths.map((path, index) => [path, hashes[index]]));
}

/**
 * The cache of builds made with `options` (esbuild's, plugins left out) and `pluginsFile` (the
 * path serverless-esbuild loaded the esbuild plugins from, if any) in `workingDir`.
 */
function outputCache({ options, entries, workingDir, pluginsFile }) {
  const root = join(workingDir, '.build', 'one-pass-cache');
  const sources = [__filename, join(__dirname, 'index.js'), ...(pluginsFile ? [resolve(workingDir, pluginsFile)] : [])];

  async function keyOf() {
    // Where the outputs go is not part of what they are.
    const { plugins: _plugins, outdir: _outdir, ...rest } = options;
    const sourceHashes = await Promise.all(sources.map(hashOfFile));
    return sha256(JSON.stringify({ esbuild: esbuild.version, options: rest, entries, workingDir, sourceHashes }));
  }

  return {
    /** Copies a matching build's outputs into `outdir`; false when there is none (or it cannot be read). */
    async restore(outdir) {
      try {
        const entry = join(root, await keyOf());
        const manifest = JSON.parse(await readFile(join(entry, 'manifest.json'), 'utf8'));
        const current = await hashesOf(Object.keys(manifest.inputs), workingDir);
        if (Object.entries(manifest.inputs).some(([path, hash]) => current[path] !== hash)) return false;
        await Promise.all(
          manifest.outputs.map(async (output) => {
            await mkdir(dirname(join(outdir, output)), { recursive: true });
            await cp(join(entry, 'files', output), join(outdir, output));
          }),
        );
        return true;
      } catch {
        return false;
      }
    },

    /** Keeps the outputs the build wrote into `outdir`, as its metafile lists them. */
    async store(outdir, metafile) {
      const entry = join(root, await keyOf());
      const staging = `${entry}.${randomUUID()}`;
      try {
        const outputs = Object.keys(metafile.outputs).map((output) => relative(outdir, resolve(workingDir, output)));
        await Promise.all(
          outputs.map(async (output) => {
            await mkdir(dirname(join(staging, 'files', output)), { recursive: true });
            await cp(join(outdir, output), join(staging, 'files', output));
          }),
        );
        const inputs = await hashesOf(Object.keys(metafile.inputs), workingDir);
        await writeFile(join(staging, 'manifest.json'), JSON.stringify({ inputs, outputs }));
        // Another process may have stored the same build meanwhile: either copy will do.
        await rm(entry, { recursive: true, force: true });
        await rename(staging, entry);
        await evictOld();
      } catch {
        // A cache that cannot be written costs the next start a build, nothing more.
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
    },
  };

  async function evictOld() {
    const names = (await readdir(root)).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const written = await Promise.all(
      names.map(async (name) => ({ name, at: (await stat(join(root, name))).mtimeMs })),
    );
    const old = written.sort((a, b) => b.at - a.at).slice(KEPT_ENTRIES);
    await Promise.all(old.map(({ name }) => rm(join(root, name), { recursive: true, force: true })));
  }
}

module.exports = { outputCache };
