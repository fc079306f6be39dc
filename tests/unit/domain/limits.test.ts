import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  API_LEASE_SECONDS,
  DEFAULT_LEASE_SECONDS,
  DEFAULT_PAGE_SIZE,
  DEFER_SECONDS,
  INVOKE_SHARE_OF_LEASE,
  invokeTimeoutMs,
  MAX_DELAY_SECONDS,
  MAX_MACHINE_BYTES,
  MAX_PAGE_SIZE,
  PROCESSOR_TIMEOUT_SECONDS,
  SQS_MAX_DELAY_SECONDS,
} from '../../../domain/limits';

/** A number under `custom:` in serverless.yml, which deploys the same limits. */
function customSetting(name: string): number {
  const match = new RegExp(`^  ${name}: (\\d+)$`, 'm').exec(readFileSync('serverless.yml', 'utf8'));
  expect(match, `custom.${name} in serverless.yml`).not.to.equal(null);
  return Number(match?.[1]);
}

describe('limits', () => {
  it('keeps a machine at 256 KiB, well inside a 400 KB DynamoDB item', () => {
    expect(MAX_MACHINE_BYTES).to.equal(262_144);
    expect(MAX_MACHINE_BYTES).to.be.below(400 * 1024);
  });

  it('delays through SQS up to its 15-minute cap, and a handler up to one year', () => {
    expect(SQS_MAX_DELAY_SECONDS).to.equal(15 * 60);
    expect(MAX_DELAY_SECONDS).to.equal(365 * 24 * 3600);
    expect(DEFER_SECONDS).to.equal(1);
  });

  it('holds a step longer than the processor may run, as serverless.yml deploys it', () => {
    expect(DEFAULT_LEASE_SECONDS).to.equal(customSetting('leaseSeconds'));
    expect(PROCESSOR_TIMEOUT_SECONDS).to.equal(customSetting('transitionTimeout'));
    expect(DEFAULT_LEASE_SECONDS).to.be.above(PROCESSOR_TIMEOUT_SECONDS);
    expect(INVOKE_SHARE_OF_LEASE).to.equal(0.8);
    // A handler gets 80 % of the lease, leaving the rest to commit.
    expect(invokeTimeoutMs(10)).to.equal(8000);
    expect(API_LEASE_SECONDS).to.equal(30);
  });

  it('pages listings by 25, at most 100', () => {
    expect(DEFAULT_PAGE_SIZE).to.equal(25);
    expect(MAX_PAGE_SIZE).to.equal(100);
  });
});
