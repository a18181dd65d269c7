/**
 * Platform limits the renderers respect, one named constant each, with the doc it comes from.
 * Lengths are counted in UTF-16 code units (`string.length`), which is never less than the
 * platforms' own character counts, so staying under them is always safe.
 */

// ---------------------------------------------------------------- Slack (Block Kit)

/** Blocks per message. {@link https://api.slack.com/reference/block-kit/blocks} */
export const SLACK_MAX_BLOCKS = 50;
/** `text` of a section block. {@link https://api.slack.com/reference/block-kit/blocks#section} */
export const SLACK_SECTION_TEXT = 3000;
/** `text` of a header block (plain_text). {@link https://api.slack.com/reference/block-kit/blocks#header} */
export const SLACK_HEADER_TEXT = 150;
/** Items in a section's `fields`. {@link https://api.slack.com/reference/block-kit/blocks#section} */
export const SLACK_SECTION_FIELDS = 10;
/** Text of one section field. {@link https://api.slack.com/reference/block-kit/blocks#section} */
export const SLACK_FIELD_TEXT = 2000;
/** Elements in an actions block. {@link https://api.slack.com/reference/block-kit/blocks#actions} */
export const SLACK_ACTIONS_ELEMENTS = 25;
/** Button `text`. {@link https://api.slack.com/reference/block-kit/block-elements#button} */
export const SLACK_BUTTON_TEXT = 75;
/** Button `action_id`. {@link https://api.slack.com/reference/block-kit/block-elements#button} */
export const SLACK_ACTION_ID = 255;
/** Button `value`. {@link https://api.slack.com/reference/block-kit/block-elements#button} */
export const SLACK_BUTTON_VALUE = 2000;
/** Elements in a context block. {@link https://api.slack.com/reference/block-kit/blocks#context} */
export const SLACK_CONTEXT_ELEMENTS = 10;
/**
 * Our cap for the top-level fallback `text` (notifications, screen readers). Slack truncates
 * message text at 40,000 characters; we keep it short on purpose.
 * {@link https://api.slack.com/methods/chat.postMessage#truncating}
 */
export const SLACK_FALLBACK_TEXT = 3000;
/**
 * Text across all blocks of one message that Slack accepts. Undocumented: above about 12,000
 * characters Slack refuses the message with `msg_blocks_too_long` although every per-block limit
 * passes (bolt-js #2509, #2867), so long lists page before they reach it.
 * {@link https://github.com/slackapi/bolt-js/issues/2509} {@link https://github.com/slackapi/bolt-js/issues/2867}
 */
export const SLACK_MESSAGE_BLOCKS_TEXT = 12_000;
/** Where Slack truncates message text. {@link https://api.slack.com/methods/chat.postMessage#truncating} */
export const SLACK_MESSAGE_TEXT = 40_000;

// ---------------------------------------------------------------- Discord

/** Message `content`. {@link https://discord.com/developers/docs/resources/message#create-message} */
export const DISCORD_CONTENT = 2000;
/** Embed title. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_EMBED_TITLE = 256;
/** Embed description. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_EMBED_DESCRIPTION = 4096;
/** Fields per embed. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_EMBED_FIELDS = 25;
/** Field name. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_FIELD_NAME = 256;
/** Field value. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_FIELD_VALUE = 1024;
/** Footer text. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_FOOTER = 2048;
/** Sum of title, description, field names/values, footer and author over ALL embeds of a message. {@link https://discord.com/developers/docs/resources/message#embed-object-embed-limits} */
export const DISCORD_EMBED_TOTAL = 6000;
/** Embeds per message. {@link https://discord.com/developers/docs/resources/message#create-message} */
export const DISCORD_EMBEDS = 10;
/** Buttons per action row. {@link https://discord.com/developers/docs/components/reference#action-row} */
export const DISCORD_BUTTONS_PER_ROW = 5;
/** Action rows per message. {@link https://discord.com/developers/docs/components/reference#action-row} */
export const DISCORD_ROWS = 5;
/** Button label. {@link https://discord.com/developers/docs/components/reference#button} */
export const DISCORD_BUTTON_LABEL = 80;
/** Component `custom_id` (unique per message). {@link https://discord.com/developers/docs/components/reference#anatomy-of-a-component-custom-id} */
export const DISCORD_CUSTOM_ID = 100;

// ---------------------------------------------------------------- SMS

/** GSM-7 septets in a single (non-concatenated) segment. {@link https://www.twilio.com/docs/glossary/what-sms-character-limit} */
export const SMS_GSM7_SEGMENT = 160;
/** UCS-2 code units in a single (non-concatenated) segment. {@link https://www.twilio.com/docs/glossary/what-sms-character-limit} */
export const SMS_UCS2_SEGMENT = 70;

// ---------------------------------------------------------------- WhatsApp

/** Text message body. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#text-object} */
export const WHATSAPP_TEXT = 4096;

// ---------------------------------------------------------------- Email

/**
 * Our cap for the Subject. RFC 5322 allows folded headers of any length (998 per line); clients
 * cut long subjects, so we keep them short. {@link https://www.rfc-editor.org/rfc/rfc5322#section-2.1.1}
 */
export const EMAIL_SUBJECT = 200;
/** Gmail clips message bodies above ~102 KB; informational. {@link https://support.google.com/mail/answer/6594} */
export const EMAIL_BODY_CLIP = 102_000;

// ---------------------------------------------------------------- WhatsApp interactive messages

/** Reply buttons per message. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#action-object} */
export const WHATSAPP_REPLY_BUTTONS = 3;
/** Reply button title. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#action-object} */
export const WHATSAPP_BUTTON_TITLE = 20;
/** Reply button id. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#action-object} */
export const WHATSAPP_BUTTON_ID = 256;
/** Body text of an interactive message. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#body-object} */
export const WHATSAPP_INTERACTIVE_BODY = 1024;
/** Rows in a list message, over all sections. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#section-object} */
export const WHATSAPP_LIST_ROWS = 10;
/** List row title. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#section-object} */
export const WHATSAPP_ROW_TITLE = 24;
/** List row id. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#section-object} */
export const WHATSAPP_ROW_ID = 200;
/** List row description. {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#section-object} */
export const WHATSAPP_ROW_DESCRIPTION = 72;
/** The list's button label (and a section title). {@link https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#action-object} */
export const WHATSAPP_LIST_BUTTON = 20;
