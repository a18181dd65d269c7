/** Errors the hub raises; the API maps `status` to the HTTP status code. */
export class HubError extends Error {
  override name = 'HubError';
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
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
