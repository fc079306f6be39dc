/** A problem with one field of a request, named by its path (e.g. `config.START`). */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Base of every error the domain raises on purpose; `code` is stable for clients. */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED';
  constructor(
    message: string,
    override readonly details: FieldIssue[],
  ) {
    super(message, details);
  }
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

export class MachineNotFoundError extends DomainError {
  readonly code = 'MACHINE_NOT_FOUND';
  constructor(id: string) {
    super(`no machine with id '${id}'`, { id });
  }
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT';
}

/** A well-formed callback token this service did not mint (docs/design.md "Callbacks"). */
export class CallbackNotFoundError extends DomainError {
  readonly code = 'CALLBACK_NOT_FOUND';
  constructor() {
    super('unknown callback token');
  }
}
