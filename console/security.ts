/**
 * The console server's guard: it runs on the user's machine with the user's AWS credentials, so
 * only the browser the user opened it in may use it.
 *
 * - it listens on 127.0.0.1 only (server.ts);
 * - the Host header must name that address or localhost with its port: a page on another site
 *   whose DNS name is re-pointed at 127.0.0.1 (DNS rebinding) sends its own host name and is refused;
 * - every request needs the per-start token: once in the URL the console prints and opens
 *   (`?token=`), which sets it as an HttpOnly, SameSite=Strict cookie and redirects to the same
 *   page without it; then the cookie. Other sites' pages cannot read it, and the browser does
 *   not send it with their requests;
 * - state-changing requests also need a same-origin Origin (when the browser sends one), a
 *   same-origin Sec-Fetch-Site (when sent) and a JSON content type, so no HTML form of another
 *   site can post to it even if a cookie were sent.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** A fresh random token: 32 bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The cookie holding the token; per port, since cookies are shared by every port of a host. */
export const cookieName = (port: number) => `fsm_console_${port}`;

/** Whether `given` equals `token`, in constant time. */
export function tokenMatches(token: string, given: string | undefined | null): boolean {
  if (!given) return false;
  const a = Buffer.from(token);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The hosts a request may name: the loopback address and localhost, with the console's port. */
export function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** The cookies of a request, by name (the first of each name wins). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !cookies.has(name)) cookies.set(name, part.slice(eq + 1).trim());
  }
  return cookies;
}

/** The Set-Cookie value that hands the token to the browser: HttpOnly, SameSite=Strict, this session only. */
export function tokenCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export type Verdict =
  | { allow: true }
  /** The URL carried a valid token: set the cookie and redirect to `location`. */
  | { allow: false; status: 303; location: string; setCookie: string }
  | { allow: false; status: 403 | 405 | 415; reason: string };

export interface GuardRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
}

/** Decides whether the console serves `request`; see the module comment for the rules. */
export function checkRequest(request: GuardRequest, { token, port }: { token: string; port: number }): Verdict {
  const host = (request.headers.host ?? '').toLowerCase();
  if (!allowedHosts(port).includes(host)) return { allow: false, status: 403, reason: 'unexpected Host header' };
  const url = new URL(request.url, `http://${host}`);

  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    if (request.method !== 'GET' || !tokenMatches(token, fromUrl)) {
      return { allow: false, status: 403, reason: 'wrong token' };
    }
    url.searchParams.delete('token');
    return {
      allow: false,
      status: 303,
      location: `${url.pathname}${url.search}`,
      setCookie: tokenCookie(port, token),
    };
  }
  if (!tokenMatches(token, parseCookies(request.headers.cookie).get(cookieName(port)))) {
    return { allow: false, status: 403, reason: 'no token: open the URL the console printed' };
  }
  if (!STATE_CHANGING.has(request.method)) {
    return request.method === 'GET' || request.method === 'HEAD'
      ? { allow: true }
      : { allow: false, status: 405, reason: 'method not allowed' };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${host}`) {
    return { allow: false, status: 403, reason: 'cross-origin request' };
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return { allow: false, status: 403, reason: 'cross-site request' };
  if (request.method !== 'DELETE' && !request.headers['content-type']?.startsWith('application/json')) {
    return { allow: false, status: 415, reason: 'send JSON' };
  }
  return { allow: true };
}
