import { expect } from 'chai';
import { unprocessedAnswers } from '../src/dynamodb';

describe('dynamodb: batch leftovers on demand (unprocessedTries, a test option)', () => {
  const write = { RequestItems: { history: [{ DeleteRequest: { Key: { id: { S: 'm' }, seq: { N: '1' } } } }] } };
  const get = { RequestItems: { machines: { Keys: [{ id: { S: 'm' } }] } } };

  it('answers each distinct batch `tries` times with all of it unprocessed, then lets it through to dynalite', () => {
    const answer = unprocessedAnswers(2);
    expect(JSON.parse(answer('BatchWriteItem', write)?.body ?? '{}')).to.deep.equal({
      UnprocessedItems: write.RequestItems,
    });
    expect(JSON.parse(answer('BatchGetItem', get)?.body ?? '{}')).to.deep.equal({
      Responses: {},
      UnprocessedKeys: get.RequestItems,
    });
    expect(answer('BatchWriteItem', write)?.status).to.equal(200);
    expect(answer('BatchGetItem', get)?.status).to.equal(200);
    expect(answer('BatchWriteItem', write)).to.equal(undefined);
    expect(answer('BatchGetItem', get)).to.equal(undefined);
    // Counted afresh when the same batch comes again (a later delete of the same keys).
    expect(answer('BatchWriteItem', write)?.status).to.equal(200);
  });

  it('leaves every other action to dynalite', () => {
    const answer = unprocessedAnswers(5);
    expect(answer('PutItem', { TableName: 'machines', Item: {} })).to.equal(undefined);
    expect(answer('Query', { TableName: 'history' })).to.equal(undefined);
    expect(answer(undefined, write)).to.equal(undefined);
  });
});
