import { expect } from 'chai';
import { ValidationError } from '../../../domain/errors';
import { DEFAULT_HISTORY_PAGE_SIZE, MAX_HISTORY_PAGE_SIZE } from '../../../domain/limits';
import { encodeHistoryToken, parseHistoryQuery } from '../../../domain/listing';
import { type HistoryEvent, historyKey, historyPage } from '../../../domain/machine';
import { machine, T0 } from '../../helpers/factories';

const at = new Date(T0).toISOString();
const event = (seq: number): HistoryEvent => ({ seq, outcome: 'transition', at, version: seq });
const seqs = (events: HistoryEvent[]) => events.map((e) => e.seq);
/** A machine at seq 4 whose latest event (4) lives in the record only. */
const record = machine({ seq: 4, lastEvent: event(4) });
const written = [0, 1, 2, 3].map(event);

describe('historyPage', () => {
  it('adds the latest event to the last page', () => {
    expect(seqs(historyPage(record, { events: written, more: false }, { limit: 10 }).events)).to.deep.equal([
      0, 1, 2, 3, 4,
    ]);
  });

  it('leaves the latest event for a later page while the table has more', () => {
    const page = historyPage(record, { events: written.slice(0, 2), more: true }, { limit: 2 });
    expect(page).to.deep.equal({ events: written.slice(0, 2), next: 1 });
  });

  it('cuts a page the latest event would make one too long, and goes on after it', () => {
    const page = historyPage(record, { events: written, more: false }, { limit: 4 });
    expect(page).to.deep.equal({ events: written, next: 3 });
    expect(historyPage(record, { events: [], more: false }, { after: 3, limit: 4 })).to.deep.equal({
      events: [event(4)],
    });
  });

  it('does not repeat the latest event once it is written, nor show events past the record', () => {
    const page = historyPage(record, { events: [...written, event(4), event(5)], more: false }, { limit: 10 });
    expect(seqs(page.events)).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('does not skip ahead to the latest event when DynamoDB returns a short page with more to come', () => {
    // A Query page can hold fewer items than asked for (its 1 MB cap) and still say there is more.
    const page = historyPage(record, { events: written.slice(0, 2), more: true }, { limit: 5 });
    expect(page).to.deep.equal({ events: written.slice(0, 2), next: 1 });
  });

  it('gives no next page when the whole history fits the page exactly', () => {
    expect(historyPage(record, { events: written, more: false }, { limit: 5 })).to.deep.equal({
      events: [...written, event(4)],
    });
  });

  it('ends with an empty page when nothing is left', () => {
    expect(historyPage(record, { events: [], more: false }, { after: 4, limit: 10 })).to.deep.equal({ events: [] });
  });
});

describe('historyPage with events a chain left in the record', () => {
  /** A chain's record at seq 6: events 4 and 5 pending in it, 6 its latest; 0-3 written. */
  const chain = machine({ seq: 6, lastEvent: event(6), pendingEvents: [event(4), event(5)] });

  it('adds the pending events before the latest one on the last page', () => {
    const page = historyPage(chain, { events: written, more: false }, { limit: 10 });
    expect(seqs(page.events)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
  });

  it('pages through them, and leaves them for a later page while the table has more', () => {
    const first = historyPage(chain, { events: written.slice(0, 3), more: true }, { limit: 3 });
    expect(first).to.deep.equal({ events: written.slice(0, 3), next: 2 });
    const second = historyPage(chain, { events: written.slice(3), more: false }, { after: 2, limit: 3 });
    expect(second).to.deep.equal({ events: [event(3), event(4), event(5)], next: 5 });
    expect(historyPage(chain, { events: [], more: false }, { after: 5, limit: 3 })).to.deep.equal({
      events: [event(6)],
    });
  });

  it('shows an event once whether it was also written or not', () => {
    const page = historyPage(chain, { events: [...written, event(4)], more: false }, { limit: 10 });
    expect(seqs(page.events)).to.deep.equal([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe('historyKey', () => {
  it('tells apart two machines that had the same name at different times', () => {
    expect(historyKey({ id: 'order-42', createdAt: at })).to.equal(`order-42/${at}`);
    expect(historyKey({ id: 'order-42', createdAt: at })).not.to.equal(
      historyKey({ id: 'order-42', createdAt: new Date(T0 + 1).toISOString() }),
    );
  });
});

describe('parseHistoryQuery', () => {
  it('reads a page size and a token it issued', () => {
    expect(parseHistoryQuery({})).to.deep.equal({ limit: DEFAULT_HISTORY_PAGE_SIZE });
    expect(parseHistoryQuery({ limit: String(MAX_HISTORY_PAGE_SIZE), nextToken: encodeHistoryToken(7) })).to.deep.equal(
      { limit: MAX_HISTORY_PAGE_SIZE, after: 7 },
    );
  });

  it('refuses bad sizes and tokens it did not issue (400 naming the field)', () => {
    for (const [query, path] of [
      [{ limit: '0' }, 'limit'],
      [{ limit: String(MAX_HISTORY_PAGE_SIZE + 1) }, 'limit'],
      [{ nextToken: 'garbage' }, 'nextToken'],
      [{ nextToken: Buffer.from('{"after":-1}').toString('base64url') }, 'nextToken'],
      [{ nextToken: 'x'.repeat(65) }, 'nextToken'],
    ] as const) {
      let error: unknown;
      try {
        parseHistoryQuery(query);
      } catch (caught) {
        error = caught;
      }
      expect(error, JSON.stringify(query)).to.be.instanceOf(ValidationError);
      expect((error as ValidationError).details.map((issue) => issue.path)).to.deep.equal([path]);
    }
  });
});
