/** Channels a renderer exists for. */
export type RenderChannel = 'slack' | 'discord' | 'sms' | 'whatsapp' | 'email' | 'text';

/**
 * A rendered payload breaks a platform limit. Thrown by the `validate*` functions before
 * anything is sent; `limit` names the constant in `limits.ts` (or the rule) that was broken.
 */
export class RenderValidationError extends Error {
  override readonly name = 'RenderValidationError';
  readonly channel: RenderChannel;
  readonly limit: string;

  constructor(channel: RenderChannel, limit: string, message: string, options?: { cause?: unknown }) {
    super(`${channel}: ${message} (${limit})`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.channel = channel;
    this.limit = limit;
  }
}
