import { expect } from 'chai';
import { ValidationError } from '../../domain/errors';
import { DEFAULT_PAGE_SIZE } from '../../domain/limits';
import { encodeCursor, type IndexPosition, mergePages, parseListQuery, pendingStatuses } from '../../domain/listing';

const key = (id: string, status: IndexPosition['status'], createdAt: string): IndexPosition => ({
  id,
  status,
  createdAt,
});

describe('parseListQuery', () => {
  it('lists the alive machines, 25 at a time, by default', () => {
    expect(parseListQuery({})).to.deep.equal({ statuses: ['RUNNING', 'PARKED'], limit: DEFAULT_PAGE_SIZE, cursor: {} });
  });

  it('takes a status, a limit and a token it issued', () => {
    const token = encodeCursor({ FAILED: key('a', 'FAILED', '2026') });
    const request = parseListQuery({ status: 'FAILED', limit: '10', nextToken: token });
    expect(request).to.deep.equal({ statuses: ['FAILED'], limit: 10, cursor: { FAILED: key('a', 'FAILED', '2026') } });
  });

  it('takes a limit from 1 to 100 and the longest token it issues', () => {
    expect(parseListQuery({ limit: '1' }).limit).to.equal(1);
    expect(parseListQuery({ limit: '100' }).limit).to.equal(100);
    // Every status at its longest key: 128-character ids, 64-character times.
    const cursor = Object.fromEntries(
      (['RUNNING', 'PARKED', 'SUCCEEDED', 'FAILED'] as const).map((status) => [
        status,
        key('x'.repeat(128), status, 't'.repeat(64)),
      ]),
    );
    const longest = encodeCursor(cursor);
    expect(longest.length).to.be.below(4096);
    expect(parseListQuery({ status: 'ALL', nextToken: longest }).cursor).to.deep.equal(cursor);
  });

  it('continues every status of the listing a token came from', () => {
    const cursor = { RUNNING: key('r', 'RUNNING', '2'), PARKED: null };
    expect(parseListQuery({ nextToken: encodeCursor(cursor) }).cursor).to.deep.equal(cursor);
  });

  const NOT_ISSUED = 'not a token this API issued';
  for (const [query, path, message] of [
    [
      { status: 'DONE' },
      'status',
      "'DONE' is not a status: use RUNNING, PARKED, SUCCEEDED, FAILED, a comma list of them, or ALL",
    ],
    [{ limit: '0' }, 'limit', 'Too small: expected number to be >=1'],
    [{ limit: '101' }, 'limit', 'Too big: expected number to be <=100'],
    [{ limit: 'ten' }, 'limit', 'Invalid input: expected number, received NaN'],
    [{ limit: '2.5' }, 'limit', 'Invalid input: expected int, received number'],
    [{ nextToken: 'A'.repeat(4097) }, 'nextToken', 'Too big: expected string to have <=4096 characters'],
    [{ nextToken: 'garbage!!' }, 'nextToken', NOT_ISSUED],
    [{ nextToken: Buffer.from('{"RUNNING":7}').toString('base64url') }, 'nextToken', NOT_ISSUED],
    [{ nextToken: Buffer.from('{"DONE":null}').toString('base64url') }, 'nextToken', NOT_ISSUED],
    [
      {
        nextToken: Buffer.from('{"RUNNING":{"id":"a","status":"RUNNING","createdAt":"1","x":1}}').toString('base64url'),
      },
      'nextToken',
      NOT_ISSUED,
    ],
    [
      { status: 'FAILED', nextToken: encodeCursor({ RUNNING: null }) },
      'nextToken',
      'nextToken belongs to a listing with another status',
    ],
    [
      { status: 'FAILED', nextToken: encodeCursor({ FAILED: null, RUNNING: null }) },
      'nextToken',
      'nextToken belongs to a listing with another status',
    ],
  ] as const) {
    it(`answers 400 naming ${path} for ${JSON.stringify(query).slice(0, 80)}`, () => {
      try {
        parseListQuery(query);
        expect.fail('expected a ValidationError');
      } catch (error) {
        expect(error).to.be.instanceOf(ValidationError);
        expect((error as ValidationError).message).to.equal('invalid list query');
        expect((error as ValidationError).details).to.deep.equal([{ path, message }]);
      }
    });
  }
});

describe('mergePages', () => {
  it('merges statuses newest first and continues each exactly after what it returned', () => {
    const running = {
      status: 'RUNNING' as const,
      keys: [key('r3', 'RUNNING', '3'), key('r1', 'RUNNING', '1')],
      more: true,
    };
    const parked = { status: 'PARKED' as const, keys: [key('p2', 'PARKED', '2')], more: false };
    const { keys, next } = mergePages([running, parked], 2, {});
    expect(keys).to.deep.equal([key('r3', 'RUNNING', '3'), key('p2', 'PARKED', '2')]);
    expect(next).to.deep.equal({ RUNNING: key('r3', 'RUNNING', '3'), PARKED: null });
  });

  it('keeps a status not yet started out of the cursor', () => {
    const running = { status: 'RUNNING' as const, keys: [key('r3', 'RUNNING', '3')], more: true };
    const parked = { status: 'PARKED' as const, keys: [key('p1', 'PARKED', '1')], more: false };
    expect(mergePages([running, parked], 1, {}).next).to.deep.equal({ RUNNING: key('r3', 'RUNNING', '3') });
  });

  it('keeps the previous position of a status that gave nothing to this page', () => {
    const previous = { RUNNING: key('r3', 'RUNNING', '3'), PARKED: key('p9', 'PARKED', '9') };
    const running = { status: 'RUNNING' as const, keys: [key('r2', 'RUNNING', '2')], more: true };
    const parked = { status: 'PARKED' as const, keys: [key('p1', 'PARKED', '1')], more: true };
    expect(mergePages([running, parked], 1, previous).next).to.deep.equal({
      RUNNING: key('r2', 'RUNNING', '2'),
      PARKED: key('p9', 'PARKED', '9'),
    });
  });

  it('puts the status listed first first when two were created at the same time', () => {
    const running = { status: 'RUNNING' as const, keys: [key('r', 'RUNNING', '5')], more: false };
    const parked = { status: 'PARKED' as const, keys: [key('p', 'PARKED', '5')], more: false };
    expect(mergePages([running, parked], 1, {}).keys).to.deep.equal([key('r', 'RUNNING', '5')]);
    expect(mergePages([parked, running], 1, {}).keys).to.deep.equal([key('p', 'PARKED', '5')]);
  });

  it('marks a status exhausted once its last key is returned, or when it had none', () => {
    const running = { status: 'RUNNING' as const, keys: [key('r1', 'RUNNING', '1')], more: true };
    const parked = { status: 'PARKED' as const, keys: [], more: false };
    expect(mergePages([running, parked], 5, {})).to.deep.equal({
      keys: [key('r1', 'RUNNING', '1')],
      next: { RUNNING: key('r1', 'RUNNING', '1'), PARKED: null },
    });
  });

  it('does not mark a status exhausted while its page has keys not returned', () => {
    const running = {
      status: 'RUNNING' as const,
      keys: [key('r2', 'RUNNING', '2'), key('r1', 'RUNNING', '1')],
      more: false,
    };
    expect(mergePages([running], 1, {})).to.deep.equal({
      keys: [key('r2', 'RUNNING', '2')],
      next: { RUNNING: key('r2', 'RUNNING', '2') },
    });
  });

  it('keeps statuses already exhausted in the cursor', () => {
    const running = { status: 'RUNNING' as const, keys: [key('r1', 'RUNNING', '1')], more: true };
    expect(mergePages([running], 1, { PARKED: null })).to.deep.equal({
      keys: [key('r1', 'RUNNING', '1')],
      next: { PARKED: null, RUNNING: key('r1', 'RUNNING', '1') },
    });
  });

  it('ends the listing when every status is exhausted', () => {
    const page = { status: 'FAILED' as const, keys: [key('f', 'FAILED', '1')], more: false };
    expect(mergePages([page], 5, {})).to.deep.equal({ keys: [key('f', 'FAILED', '1')] });
  });
});

describe('pendingStatuses', () => {
  it('skips exhausted statuses and continues the others where they stopped', () => {
    const position = key('r', 'RUNNING', '1');
    expect(
      pendingStatuses({ statuses: ['RUNNING', 'PARKED'], limit: 5, cursor: { RUNNING: position, PARKED: null } }),
    ).to.deep.equal([{ status: 'RUNNING', after: position }]);
    expect(pendingStatuses({ statuses: ['FAILED'], limit: 5, cursor: {} })).to.deep.equal([{ status: 'FAILED' }]);
  });
});
