import { ChittyError } from '../core/chitty-error.ts';

/**
 * Errors the hub raises; the API maps `status` to the HTTP status code. Not retryable: the same
 * change against the same state fails the same way (a person has to change the request).
 */
export class HubError extends ChittyError {
  override name = 'HubError';
  constructor(
    message: string,
    code: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message, code, { retryable: false });
  }
}

export class NotFoundError extends HubError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, 'not_found', 404);
  }
}

export class InvalidChangeError extends HubError {
  override name = 'InvalidChangeError';
  constructor(message: string, details?: unknown) {
    super(message, 'invalid_change', 400, details);
  }
}

export class ConflictStateError extends HubError {
  override name = 'ConflictStateError';
  constructor(message: string) {
    super(message, 'conflict_state', 409);
  }
}
