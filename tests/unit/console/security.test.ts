import { expect } from 'chai';
import { checkRequest, cookieName, parseCookies, tokenMatches } from '../../../console/security';

const token = 'secret-token';
const port = 4321;
const cookie = `${cookieName(port)}=${token}`;
const check = (method: string, url: string, headers: Record<string, string>) =>
  checkRequest({ method, url, headers }, { token, port });

describe('the console guard', () => {
  it('refuses a Host other than 127.0.0.1 or localhost with its port (DNS rebinding)', () => {
    expect(check('GET', '/', { host: 'evil.example', cookie })).to.include({ allow: false, status: 403 });
    expect(check('GET', '/', { host: '127.0.0.1:80', cookie })).to.include({ allow: false, status: 403 });
    expect(check('GET', '/', { cookie })).to.include({ allow: false, status: 403 });
    expect(check('GET', '/', { host: `127.0.0.1:${port}`, cookie })).to.deep.equal({ allow: true });
    expect(check('GET', '/', { host: `LOCALHOST:${port}`, cookie })).to.deep.equal({ allow: true });
  });

  it('trades the URL token for an HttpOnly SameSite=Strict cookie and a redirect without it', () => {
    expect(check('GET', `/machines/m-1?token=${token}&x=1`, { host: `127.0.0.1:${port}` })).to.deep.equal({
      allow: false,
      status: 303,
      location: '/machines/m-1?x=1',
      setCookie: `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`,
    });
    expect(check('GET', '/?token=wrong', { host: `127.0.0.1:${port}` })).to.include({ status: 403 });
    expect(check('POST', `/?token=${token}`, { host: `127.0.0.1:${port}` })).to.include({ status: 403 });
  });

  it('needs the cookie on every request', () => {
    const host = `127.0.0.1:${port}`;
    expect(check('GET', '/assets/app.js', { host })).to.include({ status: 403 });
    expect(check('GET', '/', { host, cookie: `${cookieName(port)}=wrong` })).to.include({ status: 403 });
    expect(check('GET', '/', { host, cookie: `${cookieName(port + 1)}=${token}` })).to.include({ status: 403 });
    expect(check('OPTIONS', '/', { host, cookie })).to.include({ status: 405 });
  });

  it('lets state-changing requests through only same-origin and as JSON', () => {
    const host = `127.0.0.1:${port}`;
    const json = { host, cookie, 'content-type': 'application/json' };
    expect(check('POST', '/api/machines', json)).to.deep.equal({ allow: true });
    expect(check('POST', '/api/machines', { ...json, origin: `http://${host}` })).to.deep.equal({ allow: true });
    expect(check('POST', '/api/machines', { ...json, origin: 'http://evil.example' })).to.include({ status: 403 });
    expect(check('POST', '/api/machines', { ...json, 'sec-fetch-site': 'cross-site' })).to.include({ status: 403 });
    expect(check('POST', '/api/machines', { host, cookie, 'content-type': 'text/plain' })).to.include({
      status: 415,
    });
    expect(check('DELETE', '/api/machines/m-1', { host, cookie, 'sec-fetch-site': 'same-origin' })).to.deep.equal({
      allow: true,
    });
  });

  it('parses cookies and compares tokens in constant time', () => {
    expect([...parseCookies('a=1; b=2; a=3; junk; =x')]).to.deep.equal([
      ['a', '1'],
      ['b', '2'],
    ]);
    expect(parseCookies(undefined).size).to.equal(0);
    expect(tokenMatches('abc', 'abc')).to.equal(true);
    expect(tokenMatches('abc', 'abd')).to.equal(false);
    expect(tokenMatches('abc', 'ab')).to.equal(false);
    expect(tokenMatches('abc', undefined)).to.equal(false);
  });
});
