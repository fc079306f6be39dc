import type { Template } from './cloudformation';

/** What the plugin reads of the framework's service (osls / Serverless v3). */
export interface FunctionDefinition {
  name?: string;
  /** Lambda's RecursiveLoop: `Allow` turns its recursive loop detection off for the function. */
  recursiveLoop?: string;
  reservedConcurrency?: number | string;
  iamRoleStatements?: unknown[];
  handler?: string;
  environment?: Record<string, unknown>;
  events?: Record<string, unknown>[];
}

export interface Serverless {
  service: {
    service: string;
    custom?: Record<string, unknown>;
    provider: {
      environment?: Record<string, unknown>;
      stage?: string;
      region?: string;
      iam?: { role?: { statements?: unknown[] } };
      httpApi?: { authorizers?: unknown };
    };
    resources?: Template | Template[];
    getAllFunctions(): string[];
    getFunction(key: string): FunctionDefinition;
  };
  config: { servicePath: string };
  pluginManager?: { plugins: object[] };
  processedInput?: { commands?: string[] };
  getProvider(name: 'aws'): {
    getStage(): string;
    getRegion(): string;
    naming: { getLambdaLogicalId(key: string): string };
  };
}

/** The framework's logger (`utils.log`). */
export interface Log {
  (message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  info(message: string): void;
  error(message: string): void;
}
