/** How a failed command ends: one line on standard error and an exit code. */
import { ApiError, ApiUnreachableError } from '../client/apiClient';
import { describeApiError } from './format';

/** A failure the CLI itself detects (a bad file, bad --object, a deleted machine). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes: 2 when the API cannot be reached, 1 for everything else (API errors included). */
export function failure(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof ApiUnreachableError) {
    return { message: `${error.message}; is the service running? (npm start, or --endpoint URL)`, exitCode: 2 };
  }
  if (error instanceof ApiError) return { message: describeApiError(error), exitCode: 1 };
  return { message: (error as Error).message, exitCode: 1 };
}
