/** Calls to the console server (same origin; the token is an HttpOnly cookie this script never sees). */
import type { FieldIssue } from '../../domain/errors';
import { setLive } from './live';

export interface Answer<T = unknown> {
  status: number;
  body: T & { error?: string; code?: string; details?: unknown };
}

export async function call<T = unknown>(method: string, path: string, body?: string): Promise<Answer<T>> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body }),
    credentials: 'same-origin',
    cache: 'no-store',
  });
  const text = await response.text();
  let parsed: unknown = {};
  if (text && response.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
  else if (text) parsed = { error: text.trim() };
  if (response.status === 403) setLive('error', 'Not authorised: open the URL printed by `fsm console` again');
  return { status: response.status, body: parsed as Answer<T>['body'] };
}

/** The field issues of a refusal, or one issue naming its code (or status) when it has none. */
export function issuesOf(answer: Answer): FieldIssue[] {
  const details = answer.body.details;
  if (Array.isArray(details) && details.length > 0) return details as FieldIssue[];
  return [{ path: answer.body.code ?? `HTTP ${answer.status}`, message: answer.body.error ?? `HTTP ${answer.status}` }];
}

/** A poll the server refused: says so in the live line and answers the delay of the next try (ms). */
export function retryLater(answer: Answer): number {
  setLive('error', `${answer.body.error ?? `HTTP ${answer.status}`}; retrying`);
  return 3000;
}
