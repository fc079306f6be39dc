import { createDocumentClient } from '../adapters/dynamodb/client';
import { DynamoMachineStore } from '../adapters/dynamodb/machineStore';
import type { Environment, MachineStore } from '../application/ports';
import { readConfig, type ServiceConfig } from './config';
import { traced } from './observability';

/**
 * What the read-only API functions (GET) need: the store and a clock. Kept apart from
 * `services.ts` so their bundles hold no SQS or Lambda client (docs/deploying.md#packaging).
 */
export interface ReadServices extends Pick<Environment, 'now'> {
  config: ServiceConfig;
  store: MachineStore;
}

/** The machine store on the DynamoDB document client, as every function builds it. */
export function buildStore(config: ServiceConfig): DynamoMachineStore {
  const dynamo = createDocumentClient({ region: config.region, endpoint: config.endpoints.dynamodb, traced });
  return new DynamoMachineStore(
    dynamo,
    { machines: config.tableName, history: config.historyTableName },
    { statusShards: config.statusShards },
  );
}

let services: ReadServices | undefined;

/** The store, built once per container from the environment. */
export function getReadServices(): ReadServices {
  if (services) return services;
  const config = readConfig();
  services = { config, store: buildStore(config), now: Date.now };
  return services;
}
