import { marshall } from '@aws-sdk/util-dynamodb';
import { expect } from 'chai';
// dynalite sizes items as DynamoDB does (measured against it), but counts string characters.
import { itemSize as dynaliteItemSize } from 'dynalite/db';
import { itemSize, storableIssues, writeUnits } from '../../../domain/storable';
import { machine } from '../../helpers/factories';

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

describe('itemSize', () => {
  const dynaliteSize = (item: Record<string, unknown>) =>
    dynaliteItemSize(marshall(item, { convertClassInstanceToMap: true }));

  it('sizes items as DynamoDB does: names, strings, numbers, booleans, null, maps and lists', () => {
    const items: Record<string, unknown>[] = [
      machine() as unknown as Record<string, unknown>,
      { id: 'x', flag: true, nothing: null, empty: '', list: [], map: {} },
      { id: 'x', lists: [[[]], [[], []], {}], maps: { a: { b: { c: 1 } } } },
      ...[0, 1, -1, 7, 12, 123, 1234, 1.5, -0.001, 0.25, 1e15, 1.5e-7, 123456789012345, 2 ** 53 - 1, -98765.4321].map(
        (n) => ({ id: 'n', n }),
      ),
    ];
    for (const item of items) expect(itemSize(item), JSON.stringify(item)).to.equal(dynaliteSize(item));
  });

  it('counts binary values by their bytes, as DynamoDB does (a compressed object)', () => {
    const item = { id: 'x', objectZ: new Uint8Array([1, 2, 3, 250, 0, 7]), map: { b: new Uint8Array(300) } };
    expect(itemSize(item)).to.equal(dynaliteSize(item));
    expect(itemSize({ b: new Uint8Array(1000) })).to.equal(1001);
  });

  it('counts strings and names in UTF-8 bytes, as DynamoDB does (dynalite counts characters)', () => {
    expect(itemSize({ é: 'éé' })).to.equal(6);
    expect(itemSize({ a: '😀' })).to.equal(5);
  });

  it('leaves out undefined attributes, as the document client does', () => {
    expect(itemSize({ id: 'x', gone: undefined, map: { gone: undefined } })).to.equal(itemSize({ id: 'x', map: {} }));
  });
});

describe('writeUnits', () => {
  it('bills one unit per started KB of the item, as DynamoDB does', () => {
    const sized = (bytes: number) => ({ id: 'x'.repeat(bytes - 2) });
    expect([2, 1024, 1025, 2048, 2049].map((bytes) => writeUnits(sized(bytes)))).to.deep.equal([1, 1, 2, 2, 3]);
    expect(itemSize(sized(1025))).to.equal(1025);
  });
});

describe('storableIssues', () => {
  it('accepts ordinary JSON, including keys JavaScript treats specially but stores as they are', () => {
    expect(
      storableIssues({ constructor: 'Bob', prototype: [1, 'two', null, true], a: { b: 1.5 } }, 'object'),
    ).to.deep.equal([]);
  });

  it('accepts 32 levels of nesting and refuses 33, counted from the object itself', () => {
    expect(storableIssues(nested(32), 'object')).to.deep.equal([]);
    expect(storableIssues(nested(33), 'object')).to.deep.equal([
      { path: `object${'.0'.repeat(32)}`, message: 'is nested more than 32 levels deep' },
    ]);
    expect(storableIssues({ object: nested(32) }, '', { levelsAbove: 1 })).to.deep.equal([]);
    expect(storableIssues({ object: nested(33) }, '', { levelsAbove: 1 })).to.have.length(1);
  });

  it('walks data nested far deeper than the stack could recurse', () => {
    expect(storableIssues(nested(100_000), 'object')).to.have.length(1);
  });

  it('refuses numbers that cannot be kept exactly, and ones closer to 0 than DynamoDB stores', () => {
    expect(
      storableIssues([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e-130, -1e-130, 0, 0.5], 'o'),
    ).to.deep.equal([]);
    expect(storableIssues({ big: 2 ** 53 }, 'o')).to.deep.equal([
      { path: 'o.big', message: 'number 9007199254740992 is beyond ±(2^53 - 1) and cannot be kept exactly' },
    ]);
    expect(storableIssues({ tiny: -9e-131 }, 'o')).to.deep.equal([
      { path: 'o.tiny', message: 'number -9e-131 is closer to 0 than DynamoDB stores (1e-130)' },
    ]);
    expect(storableIssues([1e300, -1e300], 'o')).to.have.length(2);
  });

  it('refuses __proto__ keys and text that is not valid Unicode, naming the path', () => {
    expect(storableIssues(JSON.parse('{"a":{"__proto__":{}}}'), '')).to.deep.equal([
      { path: 'a.__proto__', message: 'is not a key that can be stored and read back exactly' },
    ]);
    expect(storableIssues({ '\ud800': 1 }, 'o')[0]?.message).to.equal(
      'is not a key that can be stored and read back exactly',
    );
    expect(storableIssues(['\udc00'], 'o')).to.deep.equal([
      { path: 'o.0', message: 'has a lone UTF-16 surrogate (not valid Unicode)' },
    ]);
    expect(storableIssues('\ud800', '')).to.deep.equal([
      { path: '(root)', message: 'has a lone UTF-16 surrogate (not valid Unicode)' },
    ]);
  });

  it('reports at most 10 issues', () => {
    expect(
      storableIssues(
        Array.from({ length: 50 }, () => 2 ** 60),
        'o',
      ),
    ).to.have.length(10);
  });
});
