import { expect } from 'chai';
import { ApiClient } from '../../../client/apiClient';
import {
  bearerTransform,
  regionOfEndpoint,
  requestTransformFor,
  resolveAuthMode,
  signingRegion,
  sigV4Transform,
} from '../../../client/sign';
import {
  type IncomingSignedRequest,
  type VerifyOptions,
  verifySigV4,
} from '../../../plugins/serverless-offline-emulators/src/sigv4';
import { FakeServer } from './fakeServer';

const credentials = { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' };
const verifyOptions: VerifyOptions = {
  region: 'us-east-1',
  lookup: (id: string) =>
    id === credentials.accessKeyId ? { secretAccessKey: credentials.secretAccessKey } : undefined,
};

describe('auth', () => {
  describe('choosing the mode', () => {
    it('signs for a deployed API Gateway endpoint and not for the local stack, unless told', () => {
      const deployed = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
      expect(resolveAuthMode(deployed)).to.equal('iam');
      expect(resolveAuthMode('http://127.0.0.1:3000')).to.equal('none');
      expect(resolveAuthMode(deployed, 'none')).to.equal('none');
      expect(resolveAuthMode('http://127.0.0.1:3000', 'jwt')).to.equal('jwt');
      expect(resolveAuthMode(deployed, '')).to.equal('iam');
      expect(() => resolveAuthMode(deployed, 'basic')).to.throw(/none, iam, jwt/);
    });

    it('takes the region from the endpoint, else the environment', () => {
      expect(regionOfEndpoint('https://abc123.execute-api.eu-west-1.amazonaws.com/prod')).to.equal('eu-west-1');
      expect(regionOfEndpoint('https://api.example.com')).to.equal(undefined);
      expect(signingRegion('https://abc123.execute-api.eu-west-1.amazonaws.com', { AWS_REGION: 'us-east-2' })).to.equal(
        'eu-west-1',
      );
      expect(signingRegion('https://api.example.com', { AWS_REGION: 'us-east-2' })).to.equal('us-east-2');
      expect(signingRegion('https://api.example.com', { AWS_DEFAULT_REGION: 'ap-south-1' })).to.equal('ap-south-1');
      expect(() => signingRegion('https://api.example.com', {})).to.throw(/AWS_REGION/);
    });

    it('gives no transform for none, a signer for iam and a bearer token for jwt', async () => {
      expect(requestTransformFor({ endpoint: 'http://127.0.0.1:3000' })).to.equal(undefined);
      const jwt = requestTransformFor({ endpoint: 'http://127.0.0.1:3000', auth: 'jwt', token: 't0k' });
      const request = { method: 'GET', url: new URL('http://127.0.0.1:3000/machines'), headers: {} };
      expect((await jwt?.(request))?.headers).to.deep.equal({ authorization: 'Bearer t0k' });
      expect(() => bearerTransform('')).to.throw(/FSM_TOKEN/);
      const iam = requestTransformFor({
        endpoint: 'http://127.0.0.1:3000',
        auth: 'iam',
        sigV4: { region: 'us-east-1', credentials },
      });
      expect((await iam?.(request))?.headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIDLOCAL\//);
    });
  });

  describe('the client with and without signing', () => {
    let server: FakeServer;
    beforeEach(async () => {
      server = await new FakeServer().start();
    });
    afterEach(() => server.stop());

    const seen = (): IncomingSignedRequest => {
      const [request] = server.requests;
      if (!request) throw new Error('no request');
      return request;
    };

    it('sends no signature when not asked to', async () => {
      await new ApiClient({ endpoint: server.url }).send('GET', '/machines');
      expect(seen().headers.authorization).to.equal(undefined);
      expect(await verifySigV4(seen(), verifyOptions)).to.deep.equal({
        ok: false,
        reason: 'Missing Authentication Token',
      });
    });

    it('signs with the SDK signer (execute-api) so that the verifier accepts the request as received', async () => {
      const api = new ApiClient({
        endpoint: server.url,
        transformRequest: sigV4Transform({ region: 'us-east-1', credentials }),
      });
      await api.send('POST', '/machines/a%20b/resume?x=1&x=2&y=%2F', { object: { n: 1 } });
      const request = seen();
      expect(request.headers.authorization).to.match(
        /^AWS4-HMAC-SHA256 Credential=AKIDLOCAL\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
      expect(await verifySigV4(request, verifyOptions)).to.deep.equal({
        ok: true,
        accessKeyId: 'AKIDLOCAL',
      });
    });

    it('rejects the same request with the wrong secret, a changed body, or another region', async () => {
      const api = new ApiClient({
        endpoint: server.url,
        transformRequest: sigV4Transform({
          region: 'us-east-1',
          credentials: { ...credentials, secretAccessKey: 'x' },
        }),
      });
      await api.send('POST', '/machines', { name: 'm' });
      const wrong = await verifySigV4(seen(), verifyOptions);
      expect(wrong.ok).to.equal(false);
      expect(wrong)
        .to.have.property('reason')
        .that.matches(/signature we calculated does not match/);
      expect(await verifySigV4({ ...seen(), body: '{"name":"n"}' }, verifyOptions)).to.deep.equal({
        ok: false,
        reason: 'X-Amz-Content-Sha256 does not match the body',
      });
      expect((await verifySigV4(seen(), { ...verifyOptions, region: 'eu-west-1' })).ok).to.equal(false);
    });

    it('sends a session token from the credentials, and the verifier can require it', async () => {
      const api = new ApiClient({
        endpoint: server.url,
        transformRequest: sigV4Transform({ region: 'us-east-1', credentials: { ...credentials, sessionToken: 'tok' } }),
      });
      await api.send('GET', '/machines');
      const lookup = (token: string) => () => ({ secretAccessKey: credentials.secretAccessKey, sessionToken: token });
      expect((await verifySigV4(seen(), { ...verifyOptions, lookup: lookup('tok') })).ok).to.equal(true);
      expect((await verifySigV4(seen(), { ...verifyOptions, lookup: lookup('other') })).ok).to.equal(false);
    });
  });
});
