import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Resolver } from './cloudformation';
import type { ApiAuth } from './httpFront';
import type { IamStatements } from './service';

/** What `--stackInfo <file>` writes once the stack is ready. */
export interface StackInfo {
  service: string;
  stage: string;
  region: string;
  accountId: string;
  endpoints: { http: string; lambda: string; dynamodb: string; sqs: string };
  /** How the HTTP API authenticates: open, or SigV4 of the local credentials (`--apiAuth iam`). */
  apiAuth: ApiAuth;
  /** provider.environment as the functions get it locally (intrinsics resolved). */
  environment: Record<string, string>;
  /** The template's Outputs that resolve locally. */
  outputs: Record<string, string>;
  /** Function key -> deployed name. */
  functions: Record<string, string>;
  /** Queue name -> local URL. */
  queues: Record<string, string>;
  tables: string[];
  /**
   * Each function's IAM statements (serverless-iam-roles-per-function's `iamRoleStatements`, else
   * provider.iam.role.statements), resources resolved to local ARNs, plus the SQS poller statement
   * the framework adds for `sqs` events: with the request log, what an IAM policy check needs.
   */
  iam: IamStatements;
  pid: number;
}

/** The template's Outputs that resolve locally. */
export function localOutputs(outputs: Record<string, { Value: unknown }>, resolver: Resolver): Record<string, string> {
  const resolved: Record<string, string> = {};
  for (const [name, output] of Object.entries(outputs)) {
    try {
      resolved[name] = String(resolver.resolve(output.Value));
    } catch {
      // an output of something not emulated (e.g. the HTTP API's URL)
    }
  }
  return resolved;
}

/** Written whole or not at all: a reader polling for the file never sees half of it. */
export async function writeStackInfo(file: string, info: StackInfo): Promise<void> {
  const path = resolve(file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(info, null, 2));
  await rename(`${path}.tmp`, path);
}
