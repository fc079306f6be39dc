import { expect } from 'chai';
import { byteLength } from '../../../domain/definition';
import { ConflictError, MachineNotFoundError, PayloadTooLargeError, ValidationError } from '../../../domain/errors';

describe('domain errors', () => {
  it('carry a stable code, their class name and details for the client', () => {
    const cases = [
      [new ValidationError('bad', [{ path: 'state', message: 'required' }]), 'VALIDATION_FAILED'],
      [new PayloadTooLargeError('big', { bytes: 1 }), 'PAYLOAD_TOO_LARGE'],
      [new MachineNotFoundError('m-1'), 'MACHINE_NOT_FOUND'],
      [new ConflictError('busy'), 'CONFLICT'],
    ] as const;
    for (const [error, code] of cases) {
      expect(error.code).to.equal(code);
      expect(error.name).to.equal(error.constructor.name);
    }
    expect(new MachineNotFoundError('m-1').details).to.deep.equal({ id: 'm-1' });
    expect(new MachineNotFoundError('m-1').message).to.equal("no machine with id 'm-1'");
  });
});

describe('byteLength', () => {
  it('counts UTF-8 bytes of the JSON text, and 0 for undefined', () => {
    expect(byteLength({ a: 'é' })).to.equal(10);
    expect(byteLength(undefined)).to.equal(0);
  });
});
