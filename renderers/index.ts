/**
 * Renderers: pure functions from the neutral `Reply` to each channel's native payload.
 * No SDK clients, no `node:` modules, no I/O (see `boundary.test.ts`).
 */
import type { ChannelCapabilities, RenderContext, Reply } from '../src/core/reply.ts';
import { type DiscordPayload, renderDiscord } from './discord.ts';
import { type EmailPayload, renderEmail } from './email.ts';
import type { RenderChannel } from './errors.ts';
import { DISCORD_CONTENT, SLACK_MESSAGE_TEXT, SMS_GSM7_SEGMENT, SMS_UCS2_SEGMENT, WHATSAPP_TEXT, EMAIL_BODY_CLIP } from './limits.ts';
import { renderSlack, type SlackPayload } from './slack.ts';
import { renderSms } from './sms.ts';
import { renderText } from './text.ts';
import { renderWhatsApp } from './whatsapp.ts';

export * from './limits.ts';
export * from './errors.ts';
export * from './fit.ts';
export * from './escape.ts';
export * from './model.ts';
export * from './gsm.ts';
export * from './text.ts';
export * from './slack.ts';
export * from './discord.ts';
export * from './sms.ts';
export * from './whatsapp.ts';
export * from './email.ts';

/** What each channel can show, for the channel adapters and the fan-out (renderers use the named limits in limits.ts). */
export const CAPABILITIES: Record<RenderChannel, ChannelCapabilities> = {
  slack: {
    supportsThreads: true,
    supportsReactions: true,
    supportsAttachments: true,
    supportsRichText: true,
    supportsButtons: true,
    supportsVoice: false,
    supportsVideo: false,
    maxMessageLength: SLACK_MESSAGE_TEXT,
  },
  discord: {
    supportsThreads: true,
    supportsReactions: true,
    supportsAttachments: true,
    supportsRichText: true,
    supportsButtons: true,
    supportsVoice: false,
    supportsVideo: false,
    maxMessageLength: DISCORD_CONTENT,
  },
  sms: {
    supportsThreads: false,
    supportsReactions: false,
    supportsAttachments: false,
    supportsRichText: false,
    supportsButtons: false,
    supportsVoice: false,
    supportsVideo: false,
    maxMessageLength: SMS_GSM7_SEGMENT,
    segment: { gsm7: SMS_GSM7_SEGMENT, ucs2: SMS_UCS2_SEGMENT },
  },
  whatsapp: {
    supportsThreads: false,
    supportsReactions: true,
    supportsAttachments: true,
    supportsRichText: true,
    supportsButtons: false,
    supportsVoice: false,
    supportsVideo: false,
    maxMessageLength: WHATSAPP_TEXT,
  },
  email: {
    supportsThreads: true,
    supportsReactions: false,
    supportsAttachments: true,
    supportsRichText: true,
    supportsButtons: false,
    supportsVoice: false,
    supportsVideo: false,
    maxMessageLength: EMAIL_BODY_CLIP,
  },
  text: {
    supportsThreads: false,
    supportsReactions: false,
    supportsAttachments: false,
    supportsRichText: false,
    supportsButtons: false,
    supportsVoice: false,
    supportsVideo: false,
    maxMessageLength: Number.MAX_SAFE_INTEGER,
  },
};

/** Every channel's rendering of one reply. */
export interface Renderings {
  slack: SlackPayload;
  discord: DiscordPayload;
  sms: string[];
  whatsapp: string;
  email: EmailPayload;
  text: string;
}

/** Renders a reply for every channel (previews, the API's `render: true`, tests). */
export function renderAll(reply: Reply, ctx?: RenderContext): Renderings {
  return {
    slack: renderSlack(reply, ctx),
    discord: renderDiscord(reply, ctx),
    sms: renderSms(reply, ctx),
    whatsapp: renderWhatsApp(reply, ctx),
    email: renderEmail(reply, ctx),
    text: renderText(reply, ctx),
  };
}
