import { describe, expect, it } from 'vitest';
import type { Reply } from '../src/core/reply.ts';
import {
  type DiscordPayload,
  renderAll,
  renderDiscord,
  renderSlack,
  renderWhatsApp,
  type SlackPayload,
  validateDiscord,
  validateEmail,
  validateSlack,
  validateSms,
  validateWhatsApp,
} from './index.ts';
import { discordViolations, emailViolations, slackViolations, smsViolations, whatsAppViolations } from './test-checks.ts';
import { SAMPLES } from './test-replies.ts';

const CTX = { threadKey: 'todo-list-1', messageIdDomain: 'example.test' };

/** Renders page 1, 2, … until a page has no "more" marker; fails after 100 pages. */
function follow<T>(render: (page: number) => T, hasMore: (out: T) => boolean): T[] {
  const pages: T[] = [];
  for (let page = 1; page <= 100; page++) {
    const out = render(page);
    pages.push(out);
    if (!hasMore(out)) return pages;
  }
  throw new Error('more than 100 pages');
}

const slackTexts = (p: SlackPayload): string[] => p.blocks.flatMap((b) => (b.type === 'section' ? [b.text?.text ?? ''] : b.type === 'context' ? b.elements.map((e) => e.text) : []));
const slackMore = (p: SlackPayload): boolean => slackTexts(p).some((t) => t.includes('more — reply `more`'));
const slackRefs = (p: SlackPayload): string[] => p.blocks.flatMap((b) => (b.type === 'section' && b.text ? [...b.text.text.matchAll(/:[a-z_]+: \*(\d+)\.\*/g)].map((m) => m[1] ?? '') : []));

const discordMore = (p: DiscordPayload): boolean => p.embeds.some((e) => e.description?.includes('more — reply `more`'));
const discordRefs = (p: DiscordPayload): string[] => p.embeds.flatMap((e) => [...(e.description ?? '').matchAll(/\*\*(\d+)\.\*\*/g)].map((m) => m[1] ?? ''));

const whatsAppMore = (t: string): boolean => t.includes('more — reply MORE');
const whatsAppRefs = (t: string): string[] => [...t.matchAll(/^(\d+)\. /gm)].map((m) => m[1] ?? '');

const MARKER = /\n\(\d+\/\d+\)( reply MORE)?$/;
const smsRefs = (bodies: string[]): string[] =>
  [
    ...bodies
      .map((b) => b.replace(MARKER, ''))
      .join('\n')
      .matchAll(/(?:^|\n)(\d+)\.(?=[ \n]|$)/g),
  ].map((m) => m[1] ?? '');

const refsOf = (reply: Reply): string[] => (reply.items ?? []).map((i) => i.ref);

describe.each(Object.entries(SAMPLES))('sample %s, every renderer', (_name, reply) => {
  it('Slack: validator passes and every limit holds', () => {
    const out = renderSlack(reply, CTX);
    expect(() => validateSlack(out)).not.toThrow();
    expect(slackViolations(out)).toEqual([]);
  });

  it('Discord: validator passes and every limit holds', () => {
    const out = renderDiscord(reply, CTX);
    expect(() => validateDiscord(out)).not.toThrow();
    expect(discordViolations(out)).toEqual([]);
  });

  it('SMS, WhatsApp, email, text: validators pass and every limit holds', () => {
    const all = renderAll(reply, CTX);
    expect(() => validateSms(all.sms)).not.toThrow();
    expect(smsViolations(all.sms)).toEqual([]);
    expect(() => validateWhatsApp(all.whatsapp)).not.toThrow();
    expect(whatsAppViolations(all.whatsapp)).toEqual([]);
    expect(() => validateEmail(all.email)).not.toThrow();
    expect(emailViolations(all.email)).toEqual([]);
    expect(all.text.length).toBeGreaterThan(0);
  });

  it('Slack: following "more" reaches every item exactly once', () => {
    const pages = follow((page) => renderSlack(reply, { ...CTX, page }), slackMore);
    for (const p of pages) expect(slackViolations(p)).toEqual([]);
    expect(pages.flatMap(slackRefs)).toEqual(refsOf(reply));
  });

  it('Discord: following "more" reaches every item exactly once', () => {
    const pages = follow((page) => renderDiscord(reply, { ...CTX, page }), discordMore);
    for (const p of pages) expect(discordViolations(p)).toEqual([]);
    expect(pages.flatMap(discordRefs)).toEqual(refsOf(reply));
  });

  it('WhatsApp: following MORE reaches every item exactly once', () => {
    const pages = follow((page) => renderWhatsApp(reply, { ...CTX, page }), whatsAppMore);
    for (const p of pages) expect(whatsAppViolations(p)).toEqual([]);
    expect(pages.flatMap(whatsAppRefs)).toEqual(refsOf(reply));
  });

  it('SMS, email and text carry every item', () => {
    const all = renderAll(reply, CTX);
    expect(smsRefs(all.sms)).toEqual(refsOf(reply));
    for (const ref of refsOf(reply)) {
      expect(all.text).toContain(`${ref}. `);
      expect(all.email.text).toContain(`${ref}. `);
      expect(all.email.html).toContain(`<b>${ref}.</b>`);
    }
  });
});

describe('the 200-item list', () => {
  const reply = SAMPLES.longList as Reply;

  it('shows either every item or a "more" path on page 1 of each channel', () => {
    const all = renderAll(reply, CTX);
    // Slack packs ~10 of these items per 3000-character section, so all 200 may fit in 50 blocks.
    expect(slackMore(all.slack) || slackRefs(all.slack).length === 200).toBe(true);
    expect(discordMore(all.discord)).toBe(true);
    expect(all.discord.components.flatMap((r) => r.components).some((b) => 'custom_id' in b && b.custom_id === 'more')).toBe(true);
    expect(whatsAppMore(all.whatsapp)).toBe(true);
    expect(all.sms.length).toBeGreaterThan(1);
    expect(all.sms[0]).toMatch(/\n\(1\/\d+\) reply MORE$/);
  });

  it('a page past the end says there is nothing more', () => {
    expect(slackTexts(renderSlack(reply, { page: 500 }))).toContain('No more items.');
    expect(renderWhatsApp(reply, { page: 500 })).toContain('No more items.');
    expect(renderDiscord(reply, { page: 500 }).embeds.at(-1)?.description).toContain('No more items.');
  });
});
