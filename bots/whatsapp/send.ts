/**
 * Cloud API fan-out: a neutral reply → text, reply buttons or a list → the Graph API. Outside the
 * person's 24-hour window (known from their last message, or learnt from error 131047) the
 * configured template goes instead, and the ledger says so.
 */
import type { WhatsAppCloudConfig } from '../../src/channel-config.ts';
import type { Reply } from '../../src/core/reply.ts';
import type { ThreadStore } from '../../src/core/thread-store.ts';
import { ValidationError } from '../../src/core/channel-errors.ts';
import { renderWhatsAppMessage } from '../../renderers/whatsapp.ts';
import { ChatSender, type ChatPost, type ChatPosted } from '../shared/chat-sender.ts';
import type { WhatsAppContacts } from './contacts.ts';
import { type GraphClient, OutsideWindowError, type TemplateMessage } from './graph.ts';

/** Longest template parameter we send (Meta's limit for a body parameter is larger; keep it short). */
export const TEMPLATE_PARAM_MAX = 900;

/** One line for a template's `{{1}}`: the reply's title, else its text (no newlines, tabs or 4+ spaces: Meta refuses them). */
export function templateSummary(reply: Reply): string {
  const raw = reply.title ?? reply.text ?? reply.items?.[0]?.text ?? 'ChittyChat update';
  const line =
    raw
      .replace(/[\r\n\t]+/g, ' ')
      .replace(/ {4,}/g, '   ')
      .trim() || 'ChittyChat update';
  return line.length > TEMPLATE_PARAM_MAX ? `${line.slice(0, TEMPLATE_PARAM_MAX - 1)}…` : line;
}

export function templateMessage(template: NonNullable<WhatsAppCloudConfig['template']>, reply: Reply): TemplateMessage {
  return {
    type: 'template',
    template: { name: template.name, language: { code: template.language }, components: [{ type: 'body', parameters: [{ type: 'text', text: templateSummary(reply) }] }] },
  };
}

export class CloudSender extends ChatSender {
  constructor(
    private readonly graph: GraphClient,
    private readonly contacts: WhatsAppContacts,
    private readonly template: WhatsAppCloudConfig['template'],
    threads: ThreadStore | undefined,
  ) {
    super('whatsapp', threads);
  }

  protected async post(p: ChatPost): Promise<ChatPosted> {
    const to = p.address;
    if (await this.contacts.windowOpen(to)) {
      try {
        return { providerMessageId: await this.graph.send(to, renderWhatsAppMessage(p.reply)) };
      } catch (err) {
        if (!(err instanceof OutsideWindowError)) throw err;
        return this.sendTemplate(p, 'WhatsApp refused the free-form message (131047: more than 24 hours since their last message)');
      }
    }
    return this.sendTemplate(p, 'no message from this number in the last 24 hours (the customer-service window is closed)');
  }

  private async sendTemplate(p: ChatPost, why: string): Promise<ChatPosted> {
    if (!this.template) {
      throw new ValidationError(
        `whatsapp: cannot send to ${p.address}: ${why}, and only a template may go; set WHATSAPP_TEMPLATE=<name>:<language> to an approved template with one body variable`,
        'whatsapp',
      );
    }
    const id = await this.graph.send(p.address, templateMessage(this.template, p.reply));
    return { providerMessageId: id, note: `template ${this.template.name}:${this.template.language} sent instead of the message: ${why}` };
  }
}
