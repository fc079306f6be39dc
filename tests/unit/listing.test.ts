import { expect } from 'chai';
import { ValidationError } from '../../domain/errors';
import { DEFAULT_PAGE_SIZE } from '../../domain/limits';
import {
  encodeCursor,
  encodeHistoryToken,
  type IndexPosition,
  type ListCursor,
  mergePages,
  parseHistoryQuery,
  parseListQuery,
  pendingShards,
  type ShardPage,
} from '../../domain/listing';
import { type MachineStatus, STATUSES } from '../../domain/machine';
import { createdKey, shardOf } from '../../domain/statusIndex';
import { listMachines, pageByStatus } from '../../handlers/application/listMachines';
import { machine, T0 } from '../helpers/factories';
import { InMemoryMachineStore } from '../helpers/fakes';

const key = (id: string, status: IndexPosition['status'], createdAt: string): IndexPosition => ({
  id,
  status,
  createdAt,
});
const page = (status: MachineStatus, shard: number, keys: IndexPosition[], more = false): ShardPage => ({
  status,
  shard,
  keys,
  more,
});

describe('parseListQuery', () => {
  it('lists the alive machines, 25 at a time, by default', () => {
    expect(parseListQuery({})).to.deep.equal({ statuses: ['RUNNING', 'PARKED'], limit: DEFAULT_PAGE_SIZE, cursor: {} });
  });

  it('takes a status, a limit and a token it issued', () => {
    const cursor = { after: { createdAt: '2026', id: 'a' }, done: { FAILED: '0110' } };
    const request = parseListQuery({ status: 'FAILED', limit: '10', nextToken: encodeCursor(cursor) });
    expect(request).to.deep.equal({ statuses: ['FAILED'], limit: 10, cursor });
  });

  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const after = { createdAt: '2026-01-01T00:00:00.000Z', id: 'm-1' };
  for (const [query, path] of [
    [{ status: 'DONE' }, 'status'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ nextToken: 'garbage!!' }, 'nextToken'],
    [{ nextToken: forged({ RUNNING: 7 }) }, 'nextToken'],
    [{ nextToken: forged({ after }) }, 'nextToken'],
    [{ nextToken: forged({ after, done: { RUNNING: '01', PARKED: '2' } }) }, 'nextToken'],
    [{ nextToken: forged({ after, done: { RUNNING: '0'.repeat(257), PARKED: '0' } }) }, 'nextToken'],
    [{ nextToken: forged({ after: { ...after, id: 'a/b' }, done: { RUNNING: '0', PARKED: '0' } }) }, 'nextToken'],
    [{ nextToken: forged({ after, done: { RUNNING: '0', PARKED: '0' }, extra: 1 }) }, 'nextToken'],
    [{ status: 'FAILED', nextToken: encodeCursor({ after, done: { RUNNING: '0' } }) }, 'nextToken'],
    [{ nextToken: encodeCursor({ after, done: { RUNNING: '0' } }) }, 'nextToken'],
    [{ status: 'ALL', nextToken: encodeCursor({ after, done: { RUNNING: '0', PARKED: '0' } }) }, 'nextToken'],
  ] as const) {
    it(`answers 400 naming ${path} for ${JSON.stringify(query)}`, () => {
      try {
        parseListQuery(query);
        expect.fail('expected a ValidationError');
      } catch (error) {
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).details.map((d) => d.path)).to.include(path);
      }
    });
  }
});

describe('list and history query errors', () => {
  /** The ValidationError `parse` throws, as the API answers it. */
  const refusal = (parse: () => unknown) => {
    try {
      parse();
    } catch (error) {
      expect(error).to.be.instanceOf(ValidationError);
      return { message: (error as ValidationError).message, details: (error as ValidationError).details };
    }
    return expect.fail('expected a ValidationError');
  };
  const after = { createdAt: '2026-01-01T00:00:00.000Z', id: 'm-1' };

  it('names the unknown statuses and what would do', () => {
    expect(refusal(() => parseListQuery({ status: 'RUNNING,DONE,LATE' }))).to.deep.equal({
      message: 'invalid list query',
      details: [
        {
          path: 'status',
          message:
            "'DONE', 'LATE' is not a status: use RUNNING, PARKED, SUCCEEDED, FAILED, a comma list of them, or ALL",
        },
      ],
    });
  });

  it('refuses a token of a listing with as many statuses but other ones', () => {
    const token = encodeCursor({ after, done: { RUNNING: '0', PARKED: '0' } });
    expect(refusal(() => parseListQuery({ status: 'RUNNING,FAILED', nextToken: token }))).to.deep.equal({
      message: 'invalid list query',
      details: [{ path: 'nextToken', message: 'nextToken belongs to a listing with other statuses' }],
    });
  });

  it('refuses a token it did not issue', () => {
    expect(refusal(() => parseListQuery({ nextToken: 'garbage!!' }))).to.deep.equal({
      message: 'invalid list query',
      details: [{ path: 'nextToken', message: 'not a token this API issued' }],
    });
  });

  it('refuses a history page size out of range and a history token it did not issue', () => {
    const { message, details } = refusal(() => parseHistoryQuery({ limit: '0' }));
    expect(message).to.equal('invalid history query');
    expect(details.map((d) => d.path)).to.deep.equal(['limit']);
    expect(refusal(() => parseHistoryQuery({ nextToken: 'garbage!!' }))).to.deep.equal({
      message: 'invalid history query',
      details: [{ path: 'nextToken', message: 'not a token this API issued' }],
    });
    expect(parseHistoryQuery({ limit: '5', nextToken: encodeHistoryToken(42) })).to.deep.equal({ limit: 5, after: 42 });
  });
});

describe('pendingShards', () => {
  it('reads every shard of every status on the first page', () => {
    const { shards, after } = pendingShards({ statuses: ['RUNNING', 'PARKED'], limit: 5, cursor: {} }, 2);
    expect(shards).to.deep.equal([
      { status: 'RUNNING', shard: 0 },
      { status: 'RUNNING', shard: 1 },
      { status: 'PARKED', shard: 0 },
      { status: 'PARKED', shard: 1 },
    ]);
    expect(after).to.equal(undefined);
  });

  it('skips exhausted shards and continues the others below the position', () => {
    const cursor = { after: { createdAt: '5', id: 'x' }, done: { RUNNING: '101', PARKED: '000' } };
    const { shards, after } = pendingShards({ statuses: ['RUNNING', 'PARKED'], limit: 5, cursor }, 3);
    expect(shards.map(({ status, shard }) => `${status}#${shard}`)).to.deep.equal([
      'RUNNING#1',
      'PARKED#0',
      'PARKED#1',
      'PARKED#2',
    ]);
    expect(after).to.deep.equal({ createdAt: '5', id: 'x' });
  });

  it('reads every shard again when the shard count changed since the token was issued', () => {
    const cursor = { after: { createdAt: '5', id: 'x' }, done: { FAILED: '11' } };
    expect(pendingShards({ statuses: ['FAILED'], limit: 5, cursor }, 3).shards).to.have.length(3);
  });
});

describe('mergePages', () => {
  const request = (statuses: MachineStatus[], cursor: ListCursor = {}) => ({ statuses, cursor });

  it('merges shards newest first and continues every shard below the last one returned', () => {
    const pages = [
      page('RUNNING', 0, [key('r3', 'RUNNING', '3'), key('r1', 'RUNNING', '1')], true),
      page('RUNNING', 1, [key('r2', 'RUNNING', '2')]),
      page('PARKED', 0, []),
      page('PARKED', 1, [key('p4', 'PARKED', '4')]),
    ];
    const { keys, next } = mergePages(pages, 3, request(['RUNNING', 'PARKED']), 2);
    expect(keys.map((k) => k.id)).to.deep.equal(['p4', 'r3', 'r2']);
    expect(next).to.deep.equal({ after: { createdAt: '2', id: 'r2' }, done: { RUNNING: '01', PARKED: '11' } });
  });

  it('breaks ties on createdAt by id, newest (largest) first, as the index orders them', () => {
    const pages = [
      page('FAILED', 0, [key('b', 'FAILED', '7'), key('a', 'FAILED', '7')]),
      page('FAILED', 1, [key('c', 'FAILED', '7')]),
      page('FAILED', 2, [key('d', 'FAILED', '6')]),
    ];
    expect(mergePages(pages, 2, request(['FAILED']), 3)).to.deep.equal({
      keys: [key('c', 'FAILED', '7'), key('b', 'FAILED', '7')],
      next: { after: { createdAt: '7', id: 'b' }, done: { FAILED: '010' } },
    });
  });

  it('keeps the flags of shards already exhausted', () => {
    const cursor = { after: { createdAt: '9', id: 'z' }, done: { FAILED: '10' } };
    const { next } = mergePages(
      [page('FAILED', 1, [key('a', 'FAILED', '1')], true)],
      1,
      request(['FAILED'], cursor),
      2,
    );
    expect(next).to.deep.equal({ after: { createdAt: '1', id: 'a' }, done: { FAILED: '10' } });
  });

  it('ends the listing when every shard is exhausted', () => {
    const pages = [page('FAILED', 0, [key('f', 'FAILED', '1')]), page('FAILED', 1, [])];
    expect(mergePages(pages, 5, request(['FAILED']), 2)).to.deep.equal({ keys: [key('f', 'FAILED', '1')] });
  });

  it('keeps the position when a page returns nothing but a shard says it has more', () => {
    const cursor = { after: { createdAt: '9', id: 'z' }, done: { FAILED: '0' } };
    expect(mergePages([page('FAILED', 0, [], true)], 5, request(['FAILED'], cursor), 1).next).to.deep.equal(cursor);
    expect(mergePages([page('FAILED', 0, [], true)], 5, request(['FAILED']), 1).next).to.deep.equal({
      done: { FAILED: '0' },
    });
  });
});

/** A deterministic pseudo-random sequence (xorshift32), so the data is the same on every run. */
function random(seed: number) {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('listing across many shards', () => {
  const SHARDS = 16;
  const store = new InMemoryMachineStore(SHARDS);
  const next = random(42);
  // 300 machines, many created in the same millisecond (ties on createdAt) and of every status.
  for (let i = 0; i < 300; i++) {
    const createdAt = new Date(T0 + Math.floor(next() * 40)).toISOString();
    const status = STATUSES[Math.floor(next() * STATUSES.length)] as MachineStatus;
    store.put(machine({ id: `m-${i}`, createdAt, status }));
  }
  const all = [...store.records.values()];

  async function listAll(status: string | undefined, limit: number) {
    const ids: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const query = { limit: String(limit), ...(status ? { status } : {}), ...(nextToken ? { nextToken } : {}) };
      const result = await listMachines(store, parseListQuery(query), T0);
      expect(result.items.length).to.be.at.most(limit);
      ids.push(...result.items.map((item) => item.id));
      nextToken = result.nextToken;
      pages++;
    } while (nextToken !== undefined && pages < 1000);
    return { ids, pages };
  }

  it('spreads the machines over every shard, with ties on createdAt', () => {
    expect(new Set(all.map((record) => shardOf(record.id, SHARDS))).size).to.equal(SHARDS);
    expect(new Set(all.map((record) => record.createdAt)).size).to.be.below(all.length / 5);
  });

  for (const status of [undefined, 'FAILED', 'SUCCEEDED,FAILED', 'ALL']) {
    for (const limit of [1, 3, 7, 25, 100]) {
      it(`pages status=${status ?? '(alive)'} with limit ${limit}: newest first, no gaps, no repeats`, async () => {
        const statuses = status === undefined ? ['RUNNING', 'PARKED'] : parseListQuery({ status }).statuses;
        const expected = all
          .filter((record) => statuses.includes(record.status))
          .sort((a, b) => (createdKey(a) < createdKey(b) ? 1 : -1))
          .map((record) => record.id);
        const { ids, pages } = await listAll(status, limit);
        expect(ids).to.deep.equal(expected);
        expect(pages).to.be.at.least(Math.ceil(expected.length / limit));
      });
    }
  }

  it('stops querying the shards it has exhausted', async () => {
    const small = new InMemoryMachineStore(8);
    small.put(machine({ id: 'only', createdAt: new Date(T0).toISOString(), status: 'FAILED' }));
    for (let i = 0; i < 5; i++) small.put(machine({ id: `x-${i}`, createdAt: new Date(T0 + i).toISOString() }));
    const first = await listMachines(small, parseListQuery({ status: 'RUNNING', limit: '2' }), T0);
    small.calls.length = 0;
    await listMachines(
      small,
      parseListQuery({ status: 'RUNNING', limit: '2', nextToken: first.nextToken as string }),
      T0,
    );
    const queried = small.calls.filter((call) => call === 'pageByShard').length;
    expect(queried).to.be.below(8);
  });

  it('walks one status across every shard for pageByStatus', async () => {
    const expected = all
      .filter((record) => record.status === 'RUNNING')
      .sort((a, b) => (createdKey(a) < createdKey(b) ? 1 : -1))
      .map((record) => record.id);
    const ids: string[] = [];
    let after: IndexPosition | undefined;
    for (;;) {
      const result = await pageByStatus(store, 'RUNNING', 10, after);
      ids.push(...result.keys.map((k) => k.id));
      after = result.keys.at(-1);
      if (!result.more || !after) break;
    }
    expect(ids).to.deep.equal(expected);
  });
});
