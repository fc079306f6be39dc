import { expect } from 'chai';
import { CliError, failure } from '../../../cli/errors';
import {
  describeApiError,
  describeDeleted,
  describeEvent,
  describeHistory,
  describeMachine,
  describeOutcome,
  describeWatchedEvent,
  machineTable,
  table,
} from '../../../cli/format';
import { ApiError, ApiUnreachableError } from '../../../client/apiClient';
import type { HistoryEvent, MachineSummary, MachineView } from '../../../domain/machine';

const view = (overrides: Partial<MachineView> = {}): MachineView => ({
  id: 'm-1',
  state: 'TASK-1',
  status: 'RUNNING',
  object: { orderId: 42 },
  config: { START: 'prepare' },
  options: { retry: { maxAttempts: 3, backoffSeconds: 1, backoffRate: 2 }, retentionDays: 7 },
  version: 1,
  attempt: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:01.000Z',
  handlerRunning: false,
  ...overrides,
});

const event = (overrides: Partial<HistoryEvent>): HistoryEvent => ({
  seq: 1,
  outcome: 'transition',
  at: '2026-01-01T00:00:01.250Z',
  version: 1,
  ...overrides,
});

describe('cli/format', () => {
  describe('table', () => {
    it('pads each column to its widest cell, upper-cases the header and trims line ends', () => {
      const rows = [
        { id: 'a', name: 'first', n: 1 },
        { id: 'bbbbbb', n: null, name: undefined },
      ];
      expect(table(rows, ['id', 'name', 'n'])).to.equal(['ID      NAME   N', 'a       first  1', 'bbbbbb'].join('\n'));
    });

    it('prints (none) for no rows', () => {
      expect(table([], ['id'])).to.equal('(none)');
    });
  });

  it('machineTable shows the list columns and says when there are more pages', () => {
    const item: MachineSummary = {
      id: 'm-1',
      state: 'S',
      status: 'FAILED',
      version: 1,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    const lines = machineTable([item], true).split('\n');
    expect(lines[0]).to.match(/^ID +NAME +STATUS +STATE +VERSION +CREATEDAT$/);
    expect(lines[1]).to.match(/^m-1 +FAILED +S +1 +2026-01-01T00:00:00.000Z$/);
    expect(lines[2]).to.equal('(more: use --all-pages)');
    expect(machineTable([item])).not.to.include('more');
  });

  describe('describeMachine', () => {
    it('shows the fields of a running machine, one per line', () => {
      expect(describeMachine(view())).to.equal(
        [
          'id        m-1',
          'status    RUNNING',
          'state     TASK-1',
          'version   1  attempt 1',
          'created   2026-01-01T00:00:00.000Z',
          'updated   2026-01-01T00:00:01.000Z',
          'object    {"orderId":42}',
        ].join('\n'),
      );
    });

    it('adds the name, flags, wake time, finish time and error when there are any', () => {
      const text = describeMachine(
        view({
          name: 'order-1',
          handlerRunning: true,
          removing: true,
          wakeAt: '2026-01-02T00:00:00.000Z',
          finishedAt: '2026-01-03T00:00:00.000Z',
          error: { message: 'boom', state: 'TASK-1', at: '2026-01-03T00:00:00.000Z' },
        }),
      );
      expect(text).to.include('id        m-1 (order-1)\n');
      expect(text).to.include('status    RUNNING (handler running) (being removed)\n');
      expect(text).to.include('wakes at  2026-01-02T00:00:00.000Z\n');
      expect(text).to.include('finished  2026-01-03T00:00:00.000Z\n');
      expect(text).to.include('error     boom (in TASK-1)\n');
      expect(describeMachine(view({ id: 'order-1', name: 'order-1' }))).to.match(/^id {8}order-1\n/);
    });
  });

  describe('describeEvent', () => {
    it('shows the version, the outcome padded to 10 and the move', () => {
      expect(describeEvent(event({ from: 'START', to: 'TASK-1' }))).to.equal('v1 transition START -> TASK-1');
      expect(describeEvent(event({ outcome: 'created', version: 0, to: 'START' }))).to.equal('v0 created    START');
      expect(describeEvent(event({ outcome: 'succeeded', from: 'FINALIZE' }))).to.equal('v1 succeeded  FINALIZE');
      expect(describeEvent(event({ outcome: 'removal' }))).to.equal('v1 removal    ');
    });

    it('adds the delay, the attempt of retries and failures, and the error', () => {
      expect(describeEvent(event({ from: 'A', to: 'B', delay: 2 }))).to.equal('v1 transition A -> B  (delay 2s)');
      expect(describeEvent(event({ outcome: 'retry', from: 'A', attempt: 2, error: 'boom', delay: 1 }))).to.equal(
        'v1 retry      A  (delay 1s, attempt 2, error: boom)',
      );
      expect(describeEvent(event({ outcome: 'failed', from: 'A', attempt: 3 }))).to.equal(
        'v1 failed     A  (attempt 3)',
      );
      expect(describeEvent(event({ from: 'A', to: 'B', attempt: 2 }))).to.equal('v1 transition A -> B');
    });

    it('names who asked for an API-made event', () => {
      const by = 'arn:aws:iam::000000000000:user/local';
      expect(describeEvent(event({ outcome: 'created', version: 0, to: 'START', by }))).to.equal(
        `v0 created    START  (by ${by})`,
      );
      expect(describeEvent(event({ outcome: 'woken', from: 'A', attempt: 1, by }))).to.equal(
        `v1 woken      A  (attempt 1, by ${by})`,
      );
    });
  });

  it('describeHistory prefixes each event with its time', () => {
    expect(describeHistory([event({ from: 'A', to: 'B' }), event({ outcome: 'succeeded', from: 'B' })])).to.equal(
      '2026-01-01T00:00:01.250Z  v1 transition A -> B\n2026-01-01T00:00:01.250Z  v1 succeeded  B',
    );
  });

  it('describeWatchedEvent times an event from when the machine was added, right-aligned', () => {
    expect(describeWatchedEvent(event({ from: 'A', to: 'B' }), '2026-01-01T00:00:00.000Z')).to.equal(
      '   +1.3s  v1 transition A -> B',
    );
    expect(
      describeWatchedEvent(event({ at: '2026-01-01T00:02:03.000Z', to: 'S' }), '2026-01-01T00:00:00.000Z'),
    ).to.equal(' +123.0s  v1 transition S');
  });

  it('describeOutcome sums up a finished machine, with its error', () => {
    expect(describeOutcome(view({ status: 'SUCCEEDED', state: 'FINALIZE', version: 4 }))).to.equal(
      'SUCCEEDED in state FINALIZE after 4 steps',
    );
    expect(
      describeOutcome(view({ status: 'FAILED', state: 'S', error: { message: 'malformed', state: 'S', at: '' } })),
    ).to.equal('FAILED in state S after 1 steps: malformed');
  });

  it('describeDeleted says whether it is gone or will go', () => {
    expect(describeDeleted({ id: 'm-1', removing: false })).to.equal('deleted m-1');
    expect(describeDeleted({ id: 'm-1', removing: true })).to.equal('m-1 will be deleted when its running step ends');
  });

  it('describeApiError puts the message, the fields at fault and the status on one line', () => {
    const issues = [
      { path: 'state', message: 'required' },
      { path: 'config.START', message: 'not allowed' },
    ];
    expect(describeApiError(new ApiError(400, 'invalid machine definition', 'VALIDATION_FAILED', issues, {}))).to.equal(
      'invalid machine definition: state: required; config.START: not allowed (HTTP 400)',
    );
    expect(describeApiError(new ApiError(502, 'HTTP 502', undefined, [], 'Bad Gateway'))).to.equal(
      'HTTP 502 (HTTP 502)',
    );
  });

  it('failure: exit 2 when the API cannot be reached, 1 for API and CLI errors', () => {
    expect(failure(new ApiUnreachableError('http://127.0.0.1:1', 'ECONNREFUSED'))).to.deep.equal({
      message: 'cannot reach http://127.0.0.1:1 (ECONNREFUSED); is the service running? (npm start, or --endpoint URL)',
      exitCode: 2,
    });
    expect(failure(new ApiError(409, 'machine is not PARKED', 'CONFLICT', [], {}))).to.deep.equal({
      message: 'machine is not PARKED (HTTP 409)',
      exitCode: 1,
    });
    expect(failure(new CliError('m-1 was deleted'))).to.deep.equal({ message: 'm-1 was deleted', exitCode: 1 });
    expect(failure(new Error('unexpected'))).to.deep.equal({ message: 'unexpected', exitCode: 1 });
  });
});
