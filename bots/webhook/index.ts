/**
 * Generic webhook channel: any http(s) URL that receives SyncMessage JSON (or a digest envelope)
 * signed with HMAC-SHA256 under `CHITTY_WEBHOOK_SECRET`. Send side only — nothing comes in.
 */
import type { ChannelCapabilities } from '../../src/core/reply.ts';
import { WEBHOOK_MAX_BODY_BYTES } from './send.ts';

export {
  WEBHOOK_CHANNEL,
  WEBHOOK_DEFAULT_TIMEOUT_MS,
  WEBHOOK_HEADERS,
  WEBHOOK_MAX_BODY_BYTES,
  WEBHOOK_USER_AGENT,
  RawJson,
  WebhookSender,
  validateWebhookUrl,
} from './send.ts';
export type { WebhookSendResult, WebhookSenderOptions } from './send.ts';
export { WEBHOOK_REPLAY_WINDOW_SEC, WEBHOOK_SIGNATURE_VERSION, signWebhook, verifyWebhook } from './sign.ts';
export type { WebhookSignatureHeaders, WebhookVerification } from './sign.ts';

/** A webhook receives JSON: no threads, reactions, buttons or rich text; ~1 MB bodies. */
export const WEBHOOK_CAPABILITIES: ChannelCapabilities = {
  supportsThreads: false,
  supportsReactions: false,
  supportsAttachments: false,
  supportsRichText: false,
  supportsButtons: false,
  supportsVoice: false,
  supportsVideo: false,
  maxMessageLength: WEBHOOK_MAX_BODY_BYTES,
};
