import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ItemStatus, RenderContext, Reply, ReplyKind } from '../src/core/reply.ts';
import { clean, paginateSms, renderAll, renderDiscord, renderSlack, renderWhatsApp, smsText, transliterateGsm } from './index.ts';
import { discordViolations, emailViolations, slackViolations, smsViolations, whatsAppViolations } from './test-checks.ts';

const HOSTILE = [
  '<!channel>',
  '@everyone',
  '@here',
  '<@U123>',
  '<@!1>',
  '<#C1>',
  '*b*',
  '_i_',
  '~s~',
  '`c`',
  '```',
  '> ',
  '# ',
  '||x||',
  '\\',
  '<script>alert(1)</script>',
  '\r\nBcc: x@y',
  '\r',
  '&amp;',
  '😀',
  '👨‍👩‍👧‍👦',
  '🇮🇹',
  '日本語',
  'é',
  'e\u0301',
  '\u0301\u0301',
  '\uD800',
  '\u200B',
  '\u2028',
  '“”‘’–—…•✓',
  '\u00a0',
  '€[]{}|^~',
  '',
];

const text = (max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: max }),
    fc.string({ unit: 'binary', maxLength: max }),
    fc.string({ unit: 'grapheme', maxLength: max }),
    fc.array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 12 })), { maxLength: 24 }).map((parts) => parts.join(' ')),
    fc.nat({ max }).map((n) => 'w'.repeat(n)),
  );

const item = fc.record(
  { ref: text(6), id: fc.string({ maxLength: 30 }), text: text(400), status: fc.constantFrom<ItemStatus>('pending', 'in_progress', 'completed', 'blocked'), detail: text(150) },
  { requiredKeys: ['ref', 'text'] },
);
const reply: fc.Arbitrary<Reply> = fc.record(
  {
    kind: fc.constantFrom<ReplyKind>('ok', 'info', 'error', 'usage', 'update'),
    title: text(400),
    text: text(6000),
    fields: fc.array(fc.record({ label: text(300), value: text(1200), inline: fc.boolean() }, { requiredKeys: ['label', 'value'] }), { maxLength: 30 }),
    items: fc.array(item, { maxLength: 80 }),
    actions: fc.array(
      fc.record({ id: text(150), label: text(120), command: text(200), style: fc.constantFrom<'primary' | 'danger'>('primary', 'danger') }, { requiredKeys: ['id', 'label', 'command'] }),
      { maxLength: 40 },
    ),
    footer: text(3000),
  },
  { requiredKeys: ['kind'] },
);
const ctx: fc.Arbitrary<RenderContext> = fc.record(
  {
    threadKey: text(60),
    messageIdDomain: text(60),
    inReplyTo: text(120),
    references: fc.array(text(120), { maxLength: 30 }),
    page: fc.oneof(fc.integer({ min: -3, max: 30 }), fc.constant(Number.NaN)),
  },
  { requiredKeys: [] },
);

const RUNS = { numRuns: 120 };

describe('any Reply, any context', () => {
  it('no renderer throws, no limit is exceeded, and user text never becomes a ping, link, script or header', () => {
    fc.assert(
      fc.property(reply, ctx, (r, c) => {
        const all = renderAll(r, c);
        expect(slackViolations(all.slack)).toEqual([]);
        expect(discordViolations(all.discord)).toEqual([]);
        expect(smsViolations(all.sms)).toEqual([]);
        expect(whatsAppViolations(all.whatsapp)).toEqual([]);
        expect(emailViolations(all.email)).toEqual([]);

        const mrkdwn = all.slack.blocks.flatMap((b) =>
          b.type === 'section' ? [b.text?.text ?? '', ...(b.fields ?? []).map((f) => f.text)] : b.type === 'context' ? b.elements.map((e) => e.text) : [],
        );
        for (const t of [all.slack.text, ...mrkdwn]) expect(t).not.toContain('<');
        const discordTexts = all.discord.embeds.flatMap((e) => [e.title, e.description, e.footer?.text, ...(e.fields ?? []).flatMap((f) => [f.name, f.value])]);
        for (const t of discordTexts) expect(t ?? '').not.toMatch(/@(everyone|here)|<[@#:/!]/);
        expect(all.discord.allowed_mentions.parse).toEqual([]);
        expect(all.email.html.toLowerCase()).not.toContain('<script');
        expect(all.email.subject).not.toMatch(/[\r\n]/);
      }),
      RUNS,
    );
  }, 120_000);

  it('SMS pages lose nothing: without whitespace and markers they spell the transliterated text', () => {
    fc.assert(
      fc.property(reply, (r) => {
        const source = transliterateGsm(clean(smsText(r))).replace(/\s/g, '');
        const pages = paginateSms(smsText(r)).map((b) => b.replace(/\n\(\d+\/\d+\)( reply MORE)?$/, ''));
        expect(pages.join('').replace(/\s/g, '')).toBe(source);
      }),
      RUNS,
    );
  }, 120_000);

  it('following "more" on Slack, Discord and WhatsApp shows every item exactly once', () => {
    const longItem = item.chain((it) => fc.integer({ min: 100, max: 300 }).map((n) => ({ ...it, text: `${it.text} ${'word '.repeat(n)}` })));
    // Body text and fields are left out so a user line like "5. x" cannot pass for an item.
    const manyItems = reply.chain(({ text: _t, fields: _f, ...r }) =>
      fc.array(longItem, { minLength: 80, maxLength: 250 }).map((items): Reply => ({ ...r, items: items.map((it, i) => ({ ...it, ref: String(i + 1) })) })),
    );
    let paged = 0;
    /** Renders pages 1, 2, … (each once) and collects item refs until a page offers no "more". */
    const follow = <T>(render: (page: number) => T, refs: (out: T) => string[], hasMore: (out: T) => boolean): string[] => {
      const seen: string[] = [];
      for (let page = 1; page <= 300; page++) {
        const out = render(page);
        seen.push(...refs(out));
        if (!hasMore(out)) return seen;
      }
      throw new Error('no end');
    };
    fc.assert(
      fc.property(manyItems, (r) => {
        const expected = (r.items ?? []).map((i) => i.ref);
        const slack = follow(
          (page) => renderSlack(r, { page }),
          (out) => out.blocks.flatMap((b) => (b.type === 'section' && b.text ? [...b.text.text.matchAll(/(?:^|\n)(?::[a-z_]+: )?\*(\d+)\.\*/g)].map((m) => m[1] ?? '') : [])),
          (out) => out.blocks.some((b) => b.type === 'actions' && b.elements.some((e) => e.action_id === 'more')),
        );
        expect(slack).toEqual(expected);
        if (renderSlack(r, { page: 2 }).blocks.some((b) => b.type === 'section')) paged++;
        const discord = follow(
          (page) => renderDiscord(r, { page }),
          (out) => out.embeds.flatMap((e) => [...(e.description ?? '').matchAll(/(?:^|\n)(?:\S+ )?\*\*(\d+)\.\*\*/g)].map((m) => m[1] ?? '')),
          (out) => out.components.some((row) => row.components.some((b) => 'custom_id' in b && b.custom_id === 'more')),
        );
        expect(discord).toEqual(expected);
        const whatsapp = follow(
          (page) => renderWhatsApp(r, { page }),
          (out) => [...out.matchAll(/^(\d+)\. (?:\S+ )?/gm)].map((m) => m[1] ?? ''),
          (out) => out.includes('— reply MORE_'),
        );
        expect(whatsapp).toEqual(expected);
      }),
      { numRuns: 15 },
    );
    // Long item texts appear often enough that some runs need a second Slack page.
    expect(paged).toBeGreaterThan(0);
  }, 120_000);
});
