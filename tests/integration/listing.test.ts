import { expect } from 'chai';
import type { ListQuery } from '../../client/apiClient';
import { shardOf } from '../../domain/statusIndex';
import { api, apiClient, waitFor } from '../helpers/api';

/** The local stage's status index shards (serverless.yml params.local.statusShards). */
const LOCAL_STATUS_SHARDS = 8;

/** Follows nextToken to the end with the shared pagination, returning every page's ids in order. */
async function listAll(query: ListQuery & { limit: number }) {
  const ids: string[] = [];
  const createdAt: string[] = [];
  let pages = 0;
  for await (const page of apiClient().pages(query)) {
    expect(page.items.length).to.be.at.most(query.limit);
    ids.push(...page.items.map((m) => m.id));
    createdAt.push(...page.items.map((m) => m.createdAt));
    pages++;
  }
  return { ids, pages, createdAt };
}

describe('listing, history and diagrams', function () {
  this.timeout(60_000);

  it('pages through one status newest first, without gaps or repeats', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await api('POST', '/machines', { state: 'S', config: { S: 'garbage' } })).body.id);
    }
    for (const id of ids) {
      await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body.status === 'FAILED',
        { what: `${id} to fail` },
      );
    }
    const listed = await listAll({ status: 'FAILED', limit: 2 });
    expect(listed.pages).to.be.at.least(3);
    expect(new Set(listed.ids).size).to.equal(listed.ids.length);
    expect(listed.ids).to.include.members(ids);
    expect(listed.createdAt).to.deep.equal([...listed.createdAt].sort().reverse());
  });

  it('pages through the alive machines across RUNNING and PARKED', async () => {
    const parked: string[] = [];
    for (let i = 0; i < 3; i++) {
      const added = await api('POST', '/machines', {
        state: 'S',
        config: { S: 'park', T: 'finalize' },
        object: { next: 'T' },
      });
      parked.push(added.body.id);
    }
    const running = (await api('POST', '/machines', { state: 'S', config: { S: 'sleepy' }, object: { sleepMs: 1000 } }))
      .body.id;
    for (const id of parked) {
      await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body.status === 'PARKED',
        { what: `${id} to park` },
      );
    }
    expect((await api('GET', '/machines?utm=ignored&limit=1')).status, 'an unknown parameter is ignored').to.equal(200);
    const listed = await listAll({ limit: 1 });
    expect(new Set(listed.ids).size).to.equal(listed.ids.length);
    expect(listed.ids).to.include.members([...parked, running]);
    expect(listed.createdAt).to.deep.equal([...listed.createdAt].sort().reverse());
  });

  it('merges every shard of several statuses page by page, and refuses a forged or foreign token', async () => {
    const failed: string[] = [];
    for (let i = 0; i < 12; i++) {
      failed.push((await api('POST', '/machines', { state: 'S', config: { S: 'garbage' } })).body.id);
    }
    const succeeded = (await api('POST', '/machines', { state: 'S', config: { S: 'noop' } })).body.id;
    const shards = new Set([...failed, succeeded].map((id) => shardOf(id, LOCAL_STATUS_SHARDS)));
    expect(shards.size, 'the machines span several shards').to.be.at.least(4);
    for (const id of [...failed, succeeded]) {
      await waitFor(
        () => api('GET', `/machines/${id}`),
        (r) => r.body.status === 'FAILED' || r.body.status === 'SUCCEEDED',
        { what: `${id} to finish` },
      );
    }
    for (const status of [['SUCCEEDED', 'FAILED'], 'ALL'] as const) {
      const listed = await listAll({ status, limit: 5 });
      expect(listed.pages).to.be.at.least(3);
      expect(new Set(listed.ids).size, 'no repeats').to.equal(listed.ids.length);
      expect(listed.ids).to.include.members([...failed, succeeded]);
      expect(listed.createdAt).to.deep.equal([...listed.createdAt].sort().reverse());
    }
    const first = await api('GET', '/machines?status=FAILED&limit=2');
    expect(first.body.nextToken).to.be.a('string');
    const refused = await Promise.all([
      api('GET', `/machines?status=ALL&nextToken=${first.body.nextToken}`),
      api(
        'GET',
        `/machines?status=FAILED&nextToken=${Buffer.from('{"after":{"id":"x","createdAt":"1"},"done":{"FAILED":"2"}}').toString('base64url')}`,
      ),
    ]);
    for (const response of refused) {
      expect(response.status).to.equal(400);
      expect(response.body.details.map((d: { path: string }) => d.path)).to.deep.equal(['nextToken']);
    }
  });

  it('draws the diagram of a finished machine as Mermaid text', async () => {
    const added = await api('POST', '/machines', {
      state: 'START',
      config: {
        START: 'prepare',
        'TASK-1': 'task-1',
        'TASK-2a': 'task-2a',
        'TASK-2b': 'task-2b',
        FINALIZE: 'finalize',
      },
      object: { branch: 'a' },
    });
    await waitFor(
      () => api('GET', `/machines/${added.body.id}`),
      (r) => r.body.status === 'SUCCEEDED',
      {
        what: 'the machine to finish',
      },
    );
    const diagram = await api('GET', `/machines/${added.body.id}/diagram`);
    expect(diagram.status).to.equal(200);
    expect(diagram.contentType).to.match(/^text\/plain/);
    expect(diagram.text).to.match(/^stateDiagram-v2\n/);
    for (const line of ['[*] --> s0', 's0 --> s1', 's1 --> s2', 's2 --> s4', 's4 --> [*]', 'class s4 succeeded']) {
      expect(diagram.text).to.include(`    ${line}\n`);
    }
    expect(diagram.text).to.include('state "TASK-2b" as s3');
    expect(diagram.text).not.to.match(/s1 --> s3/);
  });

  it('answers 404 for the history and diagram of an unknown machine', async () => {
    expect((await api('GET', '/machines/nobody/history')).status).to.equal(404);
    expect((await api('GET', '/machines/nobody/diagram')).status).to.equal(404);
  });
});
