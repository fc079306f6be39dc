import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';

const ROOT = join(__dirname, '..', '..', '..');

/** Loads the wiring of every handler in a fresh process and says whether the X-Ray SDK got loaded. */
function xrayLoadedAfterWiring(traceEnabled: string): boolean {
  const script = `
    const { traced } = require('./handlers/wiring/observability');
    require('./handlers/wiring/services');
    require('./handlers/wiring/processor');
    require('./handlers/wiring/read');
    const client = { middlewareStack: { remove() {}, use() {} }, config: {} };
    traced(client);
    process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('aws-xray-sdk-core'))));
  `;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, POWERTOOLS_TRACE_ENABLED: traceEnabled },
    encoding: 'utf8',
  });
  return out === 'true';
}

describe('tracing', () => {
  // The X-Ray SDK installs an async hook as it loads, which then runs on every promise of the
  // process: loaded by every handler bundle of the local stack, it halved its throughput.
  it('does not load the X-Ray SDK when tracing is off', () => {
    expect(xrayLoadedAfterWiring('false')).to.equal(false);
  });

  it('loads it when a client is traced with tracing on', () => {
    expect(xrayLoadedAfterWiring('true')).to.equal(true);
  });
});
