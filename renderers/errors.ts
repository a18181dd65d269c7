import { ChittyError } from '../src/core/chitty-error.ts';

/** Channels a renderer exists for. */
export type RenderChannel = 'slack' | 'discord' | 'sms' | 'whatsapp' | 'email' | 'text';

/**
 * A rendered payload breaks a platform limit. Thrown by the `validate*` functions before
 * anything is sent; `limit` names the constant in `limits.ts` (or the rule) that was broken.
 * Not retryable: the same payload breaks the same limit every time.
 */
export class RenderValidationError extends ChittyError {
  override readonly name = 'RenderValidationError';
  readonly channel: RenderChannel;
  readonly limit: string;

  constructor(channel: RenderChannel, limit: string, message: string, options?: { cause?: unknown }) {
    super(`${channel}: ${message} (${limit})`, 'render_validation', options?.cause === undefined ? { retryable: false } : { retryable: false, cause: options.cause });
    this.channel = channel;
    this.limit = limit;
  }
}
