/**
 * The channel-neutral reply/card model. Command handlers and the fan-out build these;
 * `renderers/<channel>` turn them into native payloads. Never put channel JSON here.
 */

/** Status of a listed item (matches the todo status domain). */
export type ItemStatus = 'pending' | 'in_progress' | 'completed' | 'blocked';

/** What the reply is: drives tone/emoji in renderers. */
export type ReplyKind = 'ok' | 'info' | 'error' | 'usage' | 'update';

export interface ReplyField {
  label: string;
  value: string;
  /** Hint that the field can sit beside others (Slack fields, Discord inline fields). */
  inline?: boolean;
}

export interface ReplyItem {
  /** The short number shown next to the item ("2" in "done 2"). */
  ref: string;
  /** The entity's ChittyID, when the item is an entity. */
  id?: string;
  text: string;
  status?: ItemStatus;
  /** A short secondary line: project, due date, assignee… */
  detail?: string;
}

export interface ReplyAction {
  /** Stable action id carried back by button presses. */
  id: string;
  label: string;
  /** The command text this action runs when chosen, e.g. `todo done 2`. Text channels show it. */
  command: string;
  style?: 'primary' | 'danger';
}

/** A neutral reply: a small card vocabulary every renderer understands. */
export interface Reply {
  kind: ReplyKind;
  title?: string;
  /** Body text. Plain text: renderers escape it for their channel. */
  text?: string;
  fields?: ReplyField[];
  items?: ReplyItem[];
  actions?: ReplyAction[];
  footer?: string;
}

/**
 * Context some channels need beyond the reply itself (email threading).
 * `threadKey` is a stable key of the entity/conversation the reply belongs to.
 */
export interface RenderContext {
  threadKey?: string;
  /** Domain used in generated Message-IDs (default `chittychat.local`). */
  messageIdDomain?: string;
  /** Message-ID of the message being answered (email). */
  inReplyTo?: string;
  /** Prior References chain (email). */
  references?: string[];
  /** Page of a long list to render (1-based), for "reply MORE" paging on text channels. */
  page?: number;
}

/** What a channel can show; drives degradation in renderers and planning in the fan-out. */
export interface ChannelCapabilities {
  supportsThreads: boolean;
  supportsReactions: boolean;
  supportsAttachments: boolean;
  supportsRichText: boolean;
  supportsButtons: boolean;
  supportsVoice: boolean;
  supportsVideo: boolean;
  maxMessageLength: number;
  /** SMS only: characters per single segment in GSM-7 / UCS-2. */
  segment?: { gsm7: number; ucs2: number };
}
