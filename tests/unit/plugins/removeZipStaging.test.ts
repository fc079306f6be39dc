import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';

const { zipStagingFolders, removeZipStaging } = require('../../../plugins/remove-zip-staging') as {
  zipStagingFolders: (entries: string[], functions: string[], pid: number) => string[];
  removeZipStaging: (functions: string[], folder: string, pid: number) => Promise<string[]>;
};

describe('remove-zip-staging plugin', () => {
  const functions = ['addMachine', 'task-1', 'task-2a'];

  it("picks the staging folders this process made for the service's functions, and nothing else", () => {
    const entries = [
      'addMachine-4242-1795710776067-0ecfbba4',
      'task-2a-4242-1795710776078-9167d1e8',
      'addMachine-4243-1795710776067-0ecfbba4', // another process's
      'other-4242-1795710776067-0ecfbba4', // not one of ours
      'task-1-4242-1795710776067', // no random part
      'fsm-requests-zPQqJ5',
    ];
    expect(zipStagingFolders(entries, functions, 4242)).to.deep.equal([
      'addMachine-4242-1795710776067-0ecfbba4',
      'task-2a-4242-1795710776078-9167d1e8',
    ]);
  });

  it('removes them with what they hold', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'fsm-staging-'));
    try {
      await mkdir(join(folder, 'task-1-7-1795710776067-0ecfbba4', 'handlers'), { recursive: true });
      await mkdir(join(folder, 'task-1-8-1795710776067-0ecfbba4'));
      expect(await removeZipStaging(functions, folder, 7)).to.deep.equal(['task-1-7-1795710776067-0ecfbba4']);
      expect(await readdir(folder)).to.deep.equal(['task-1-8-1795710776067-0ecfbba4']);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
