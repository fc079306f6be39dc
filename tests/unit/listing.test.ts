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

  for (const [query, path] of [
    [{ status: 'DONE' }, 'status'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '101' }, 'limit'],
    [{ limit: 'ten' }, 'limit'],
    [{ nextToken: 'garbage!!' }, 'nextToken'],
    [{ nextToken: Buffer.from('{"RUNNING":7}').toString('base64url') }, 'nextToken'],
    [{ status: 'FAILED', nextToken: encodeCursor({ RUNNING: null }) }, 'nextToken'],
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

describe('mergePages', () => {
  it('merges statuses newest first and continues each exactly after what it returned', () => {
    const running = {
      status: 'RUNNING' as const,
      keys: [key('r3', 'RUNNING', '3'), key('r1', 'RUNNING', '1')],
      more: true,
    };
    const parked = { status: 'PARKED' as const, keys: [key('p2', 'PARKED', '2')], more: false };
    const { keys, next } = mergePages([running, parked], 2, {});
    expect(keys.map((k) => k.id)).to.deep.equal(['r3', 'p2']);
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
