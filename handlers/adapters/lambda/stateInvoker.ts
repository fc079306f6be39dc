import { InvokeCommand, type InvokeCommandOutput, LambdaClient } from '@aws-sdk/client-lambda';
import { type InvocationResult, stateTimedOut } from '../../../domain/step';
import type { InvokeOptions, StateInvoker } from '../../application/ports';

/** Lambda's answers that mean "not now" rather than "it failed" (its concurrency limits). */
const THROTTLES = new Set(['TooManyRequestsException', 'ThrottlingException', 'EC2ThrottledException']);

/** Invokes state handlers synchronously (Lambda RequestResponse) and turns every way they can end into an InvocationResult. */
export class LambdaStateInvoker implements StateInvoker {
  constructor(private readonly client: LambdaClient) {}

  /**
   * `options.timeoutMs` (a state's own timeout) aborts the request when it passes: a retryable
   * failure. The client's request timeout (the invoke's share of the lease) bounds every call.
   * Aborting stops the wait, not the function, which may still finish its run on Lambda.
   */
  async invoke(functionName: string, input: unknown, options: InvokeOptions = {}): Promise<InvocationResult> {
    let response: InvokeCommandOutput;
    const signal = options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs);
    try {
      response = await this.client.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(input)),
        }),
        signal ? { abortSignal: signal } : {},
      );
    } catch (error) {
      if (signal?.aborted) return stateTimedOut(options.timeoutMs as number);
      const { name, message } = error as Error;
      if (THROTTLES.has(name)) return { kind: 'throttled', message: `${name}: ${message}` };
      return { kind: 'failed', message: `invoke failed: ${message}`, retryable: true };
    }
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    if (response.FunctionError) {
      return { kind: 'failed', message: errorMessage(text) ?? response.FunctionError, retryable: true };
    }
    try {
      return { kind: 'returned', payload: text === '' ? null : JSON.parse(text) };
    } catch {
      return { kind: 'returned', payload: { unparsable: text.slice(0, 200) } };
    }
  }
}

function errorMessage(payload: string): string | undefined {
  try {
    const parsed = JSON.parse(payload) as { errorMessage?: unknown; errorType?: unknown };
    if (typeof parsed.errorMessage === 'string') {
      return typeof parsed.errorType === 'string' && parsed.errorType !== 'Error'
        ? `${parsed.errorType}: ${parsed.errorMessage}`
        : parsed.errorMessage;
    }
  } catch {
    // not JSON: use the text as it is
  }
  return payload.slice(0, 500) || undefined;
}

export function createLambdaClient(options: { region: string; endpoint?: string; timeoutMs: number }): LambdaClient {
  return new LambdaClient({
    region: options.region,
    endpoint: options.endpoint,
    maxAttempts: 1,
    requestHandler: { requestTimeout: options.timeoutMs },
  });
}
