// serverless-esbuild (1.57) zips each function through a staging folder in the OS temp folder,
// named `<function>-<pid>-<ms>-<8 hex>`, and fails to remove it: its release is a non-recursive
// remove of a folder it has just filled, and the error is swallowed. With one package per
// function (package.individually), every `sls package` or `sls deploy` would leave one folder per
// function behind (0.2-0.8 MB each). Removed here once the zips exist, only the folders this
// process made for this service's zips (one per function, or the service's one when not
// packaged individually). A packaging that fails before this hook still leaves its folders.
const { readdir, rm } = require('node:fs/promises');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/** The staging folders among `entries` that process `pid` made for `functions`. */
function zipStagingFolders(entries, functions, pid) {
  const names = new Set(functions);
  const pattern = new RegExp(`^(.+)-${pid}-\\d+-[0-9a-f]{8}$`);
  return entries.filter((entry) => names.has(pattern.exec(entry)?.[1]));
}

async function removeZipStaging(functions, folder = tmpdir(), pid = process.pid) {
  const found = zipStagingFolders(await readdir(folder), functions, pid);
  await Promise.all(found.map((entry) => rm(join(folder, entry), { recursive: true, force: true })));
  return found;
}

class RemoveZipStaging {
  constructor(serverless) {
    const { service } = serverless;
    const remove = () => removeZipStaging([...service.getAllFunctions(), service.service]);
    this.hooks = {
      'after:package:createDeploymentArtifacts': remove,
      'after:deploy:function:packageFunction': remove,
    };
  }
}

module.exports = RemoveZipStaging;
module.exports.zipStagingFolders = zipStagingFolders;
module.exports.removeZipStaging = removeZipStaging;
