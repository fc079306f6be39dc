import { expect } from 'chai';
import { handler, wantsSvg } from '../../../handlers/entrypoints/http/machineDiagram';

const context = { invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:svc-dev-api' } as never;

describe('GET /machines/{id}/diagram content negotiation', () => {
  it('answers SVG for ?format=svg or an Accept naming image/svg+xml, Mermaid otherwise', () => {
    expect(wantsSvg({ queryStringParameters: { format: 'svg' } })).to.equal(true);
    expect(wantsSvg({ queryStringParameters: { format: 'SVG' }, headers: { accept: 'text/plain' } })).to.equal(true);
    expect(wantsSvg({ headers: { accept: 'image/svg+xml' } })).to.equal(true);
    expect(wantsSvg({ headers: { Accept: 'image/avif,image/svg+xml,*/*;q=0.8' } })).to.equal(true);
    expect(wantsSvg({ queryStringParameters: { format: 'mermaid' }, headers: { accept: 'image/svg+xml' } })).to.equal(
      false,
    );
    expect(wantsSvg({ headers: { accept: 'text/plain, image/svg+xml' } })).to.equal(false);
    expect(wantsSvg({ headers: { accept: '*/*' } })).to.equal(false);
    expect(wantsSvg({ headers: null })).to.equal(false);
    expect(wantsSvg({})).to.equal(false);
  });

  it('refuses an unknown format with 400 before reading anything', async () => {
    const result = await handler({ pathParameters: { id: 'm-1' }, queryStringParameters: { format: 'png' } }, context);
    expect(result.statusCode).to.equal(400);
    expect(result.headers.vary).to.equal('accept');
    expect(JSON.parse(result.body).details).to.deep.equal([{ path: 'format', message: 'mermaid or svg' }]);
  });

  it('keeps the error of an SVG request as JSON', async () => {
    const result = await handler(
      { pathParameters: { id: 'bad id!' }, queryStringParameters: { format: 'svg' } },
      context,
    );
    expect(result.statusCode).to.equal(400);
    expect(result.headers['content-type']).to.equal('application/json');
  });
});
