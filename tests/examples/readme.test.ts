import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { readmeSnippet } from '../helpers/readmeSnippet';

describe('README "Testing your workflows"', () => {
  it('shows tests/examples/chargeCard.test.ts as it is (the suite runs it)', () => {
    const path = 'tests/examples/chargeCard.test.ts';
    expect(readmeSnippet(path)).to.equal(readFileSync(path, 'utf8'));
  });
});
