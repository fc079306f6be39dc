import { expect } from 'chai';
import { forbiddenResponse, type IncomingSignedRequest, type VerifyOptions, verifySigV4 } from '../src/sigv4';
import { CREDENTIALS, signedRequest } from './signing';

const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
const verifyOptions: VerifyOptions = {
  region: 'us-east-1',
  lookup: (id: string) =>
    id === CREDENTIALS.accessKeyId ? { secretAccessKey: CREDENTIALS.secretAccessKey } : undefined,
  now: () => NOW,
};

describe('verifySigV4', () => {
  const signed = (at: number, secret?: string) =>
    signedRequest('http://127.0.0.1:3000/machines', { at, ...(secret ? { secret } : {}) });

  it('accepts a request signed with the right secret within the allowed skew', async () => {
    expect(await verifySigV4(await signed(NOW - 60_000), verifyOptions)).to.deep.equal({
      ok: true,
      accessKeyId: 'AKIDLOCAL',
    });
  });

  it('accepts a body and a query with repeated and escaped keys as signed, and refuses them changed', async () => {
    const request = await signedRequest('http://127.0.0.1:3000/machines/a%20b/resume?x=1&x=2&y=%2F', {
      method: 'POST',
      body: '{"object":{"n":1}}',
      at: NOW,
    });
    expect((await verifySigV4(request, verifyOptions)).ok).to.equal(true);
    expect(await verifySigV4({ ...request, body: '{"object":{"n":2}}' }, verifyOptions)).to.deep.equal({
      ok: false,
      reason: 'X-Amz-Content-Sha256 does not match the body',
    });
    expect((await verifySigV4({ ...request, url: '/machines/a%20b/resume?x=1&x=3&y=%2F' }, verifyOptions)).ok).to.equal(
      false,
    );
  });

  it('requires the session token the credentials have, when they have one', async () => {
    const lookup = (token: string) => () => ({ secretAccessKey: CREDENTIALS.secretAccessKey, sessionToken: token });
    const withToken = await signedRequest('http://127.0.0.1:3000/machines', { at: NOW, sessionToken: 'tok' });
    expect(withToken.headers['x-amz-security-token']).to.equal('tok');
    expect((await verifySigV4(withToken, { ...verifyOptions, lookup: lookup('tok') })).ok).to.equal(true);
    expect((await verifySigV4(withToken, { ...verifyOptions, lookup: lookup('other') })).ok).to.equal(false);
    expect((await verifySigV4(await signed(NOW), { ...verifyOptions, lookup: lookup('tok') })).ok).to.equal(false);
  });

  it('rejects an unknown key, a stale or future date, a bad scope, unsigned host and malformed headers', async () => {
    const reasons = async (request: IncomingSignedRequest, options = verifyOptions) => {
      const verdict = await verifySigV4(request, options);
      return verdict.ok ? 'accepted' : verdict.reason;
    };
    const good = await signed(NOW);
    expect(await reasons({ ...good, headers: {} })).to.equal('Missing Authentication Token');
    expect(await reasons(good, { ...verifyOptions, lookup: () => undefined })).to.match(/unknown access key/);
    expect(await reasons(await signed(NOW - 301_000))).to.match(/Signature expired/);
    expect(await reasons(await signed(NOW + 301_000))).to.match(/Signature expired/);
    expect(await reasons(good, { ...verifyOptions, service: 'lambda' })).to.match(/correct service/);
    expect(await reasons(good, { ...verifyOptions, region: 'eu-west-1' })).to.match(/valid region/);
    const auth = String(good.headers.authorization);
    expect(await reasons({ ...good, headers: { ...good.headers, authorization: 'Bearer x' } })).to.match(/not a SigV4/);
    expect(
      await reasons({ ...good, headers: { ...good.headers, authorization: auth.replace(/\/\d{8}\//, '/20250101/') } }),
    ).to.match(/scope date/);
    expect(await reasons({ ...good, headers: { ...good.headers, authorization: auth.replace('host;', '') } })).to.match(
      /Host header must be signed/,
    );
    expect(
      await reasons({ ...good, headers: { ...good.headers, authorization: auth.replace(';x-amz-date', '') } }),
    ).to.match(/X-Amz-Date header must be signed/);
    expect(await reasons({ ...good, headers: { ...good.headers, 'x-amz-date': 'yesterday' } })).to.match(
      /X-Amz-Date is missing/,
    );
    const { 'x-amz-content-sha256': _, ...withoutHash } = good.headers;
    expect(await reasons({ ...good, headers: withoutHash })).to.match(
      /signed header 'x-amz-content-sha256' is missing/,
    );
    expect(await reasons({ ...good, method: 'DELETE' })).to.match(/does not match the signature/);
    expect(await reasons({ ...good, url: '/machines?status=ALL' })).to.match(/does not match the signature/);
    expect(await reasons({ ...good, headers: { ...good.headers, host: '127.0.0.1:3001' } })).to.match(
      /does not match the signature/,
    );
    expect(await reasons(await signed(NOW, 'wrong-secret'))).to.match(/does not match the signature/);
  });

  it('answers a refusal as API Gateway does: 403 with a JSON body of only a message', () => {
    const response = forbiddenResponse({ reason: 'Missing Authentication Token' });
    expect(response.status).to.equal(403);
    expect(response.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(response.body)).to.deep.equal({ message: 'Missing Authentication Token' });
  });
});
