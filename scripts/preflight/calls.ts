/**
 * The AWS calls each function's code makes, by what it calls them on: the list the preflight
 * checks each packaged role against (scripts/preflight/checks.ts). The integration suite keeps it
 * true: tests/integration/requestLog.test.ts fails on any call a function made that is not here.
 * The SQS event source's receives and deletes are not listed: the framework grants them with the
 * trigger.
 */
export type Target = 'machines' | 'statusIndex' | 'dueIndex' | 'history' | 'transitionQueue' | 'stateFunctions';

export type Calls = Partial<Record<Target, string[]>>;

/** Read a machine and its step's lease, claim, send the next step, commit, or remove a machine being removed. */
const STEPPER: Calls = {
  machines: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
  history: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
  transitionQueue: ['sqs:SendMessage'],
};

export const FUNCTION_CALLS: Record<string, Calls> = {
  addMachine: {
    machines: ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem'],
    // The definition's own item (docs/design.md#how-a-record-is-stored), deleted by an add that lost the name.
    history: [
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
      'dynamodb:Query',
      'dynamodb:BatchWriteItem',
    ],
    transitionQueue: ['sqs:SendMessage'],
  },
  listMachines: { statusIndex: ['dynamodb:Query'], machines: ['dynamodb:BatchGetItem'] },
  getMachine: { machines: ['dynamodb:GetItem'], history: ['dynamodb:GetItem'] },
  machineHistory: { machines: ['dynamodb:GetItem'], history: ['dynamodb:GetItem', 'dynamodb:Query'] },
  machineDiagram: { machines: ['dynamodb:GetItem'], history: ['dynamodb:GetItem', 'dynamodb:Query'] },
  resumeMachine: STEPPER,
  redriveMachine: STEPPER,
  wakeMachine: STEPPER,
  callback: STEPPER,
  callbackFail: STEPPER,
  callbackHeartbeat: STEPPER,
  deleteMachine: {
    ...STEPPER,
    machines: ['dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  },
  transition: { ...STEPPER, stateFunctions: ['lambda:InvokeFunction'] },
  deadLetters: STEPPER,
  sweeper: {
    dueIndex: ['dynamodb:Query'],
    machines: ['dynamodb:GetItem'],
    history: ['dynamodb:GetItem'],
    transitionQueue: ['sqs:SendMessage'],
  },
};
