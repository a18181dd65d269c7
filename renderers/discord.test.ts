import { embedLength } from '@discordjs/builders';
import { describe, expect, it } from 'vitest';
import type { Reply } from '../src/core/reply.ts';
import { type DiscordPayload, RenderValidationError, renderDiscord, validateDiscord } from './index.ts';
import { brokenLimit, discordViolations } from './test-checks.ts';
import { shortOk } from './test-replies.ts';

const buttons = (p: DiscordPayload) => p.components.flatMap((r) => r.components);

describe('renderDiscord', () => {
  it('renders one embed with title, description, footer and a row of buttons, never pinging', () => {
    const p = renderDiscord(shortOk);
    expect(p.content).toBe('');
    expect(p.allowed_mentions).toEqual({ parse: [] });
    expect(p.embeds).toHaveLength(1);
    expect(p.embeds[0]).toMatchObject({
      title: 'Todo added',
      description: 'Added “Buy milk” to Groceries.\n⚪ **2.** Buy milk — *Groceries*',
      footer: { text: 'ChittyChat · project Groceries' },
      color: 0x2ecc71,
    });
    expect(p.components).toEqual([
      {
        type: 1,
        components: [
          { type: 2, custom_id: 'todo.done:2', label: 'Done', style: 1 },
          { type: 2, custom_id: 'todo.delete:2', label: 'Delete', style: 4 },
        ],
      },
    ]);
  });

  it('escapes markdown and breaks mentions in user text', () => {
    const p = renderDiscord({ kind: 'ok', text: '@everyone @here <@123> <@&9> *b* _i_ ~s~ `c` |x| > q # h [l](u) \\' });
    expect(p.embeds[0]?.description).toBe('@\u200beveryone @\u200bhere <\u200b@123\\> <\u200b@&9\\> \\*b\\* \\_i\\_ \\~s\\~ \\`c\\` \\|x\\| \\> q \\# h \\[l\\](u) \\\\');
  });

  it('fields: inline kept, at most 25, blank ones filled, note for the rest', () => {
    const reply: Reply = { kind: 'info', fields: Array.from({ length: 30 }, (_, i) => ({ label: i === 0 ? '' : `L${i}`, value: 'v', inline: true })) };
    const p = renderDiscord(reply);
    expect(p.embeds[0]?.fields).toHaveLength(25);
    expect(p.embeds[0]?.fields?.[0]).toEqual({ name: '\u200b', value: 'v', inline: true });
    expect(p.embeds[0]?.description).toBe('…and 5 more fields');
  });

  it('keeps the 6000-character total across embeds with huge fields and text', () => {
    const reply: Reply = {
      kind: 'info',
      title: 'T'.repeat(300),
      text: 'x'.repeat(5000),
      footer: 'f'.repeat(3000),
      fields: Array.from({ length: 25 }, () => ({ label: 'n'.repeat(300), value: 'v'.repeat(2000) })),
      items: Array.from({ length: 50 }, (_, i) => ({ ref: String(i + 1), text: 'i'.repeat(700), detail: 'd'.repeat(300) })),
    };
    const p = renderDiscord(reply);
    expect(discordViolations(p)).toEqual([]);
    expect(p.embeds.reduce((n, e) => n + embedLength(e), 0)).toBeLessThanOrEqual(6000);
    expect(p.embeds.at(-1)?.description).toMatch(/…and \d+ more — reply `more`$/);
  });

  it('spreads items over up to 10 embeds and offers More when they do not all fit', () => {
    const reply: Reply = { kind: 'info', items: Array.from({ length: 400 }, (_, i) => ({ ref: String(i + 1), text: `item ${i + 1} ${'z'.repeat(100)}` })) };
    const p = renderDiscord(reply);
    expect(p.embeds.length).toBeGreaterThan(1);
    expect(p.embeds.length).toBeLessThanOrEqual(10);
    expect(buttons(p)).toEqual([{ type: 2, custom_id: 'more', label: 'More', style: 2 }]);
    const shown = p.embeds.flatMap((e) => e.description?.match(/\*\*\d+\.\*\*/g) ?? []).length;
    expect(p.embeds.at(-1)?.description?.endsWith(`…and ${400 - shown} more — reply \`more\``)).toBe(true);
    expect(renderDiscord(reply, { page: 2 }).embeds[0]?.description).toContain(`**${shown + 1}.**`);
  });

  it('caps buttons at 5 per row and 5 rows, custom_ids unique and ≤ 100, labels ≤ 80', () => {
    const actions = Array.from({ length: 40 }, (_, i) => ({ id: i < 2 ? 'x'.repeat(150) : `id${i}`, label: 'L'.repeat(100), command: `c ${i}` }));
    const p = renderDiscord({ kind: 'ok', actions });
    expect(p.components).toHaveLength(5);
    expect(p.components.every((r) => r.components.length <= 5)).toBe(true);
    const ids = buttons(p).map((b) => ('custom_id' in b ? b.custom_id : ''));
    expect(new Set(ids).size).toBe(25);
    expect(ids[1]).toBe(`${'x'.repeat(96)}~2`);
    expect(buttons(p).every((b) => 'label' in b && (b.label?.length ?? 0) <= 80)).toBe(true);
  });

  it('an empty reply still renders a non-empty embed', () => {
    expect(renderDiscord({ kind: 'usage' }).embeds).toEqual([{ color: 0x95a5a6, description: 'Usage' }]);
  });
});

describe('validateDiscord', () => {
  const base = (): DiscordPayload => ({ content: '', embeds: [{ description: 'x' }], components: [], allowed_mentions: { parse: [] } });
  const limitOf = (p: DiscordPayload): string | undefined => brokenLimit(() => validateDiscord(p));

  it('names the limit that was broken', () => {
    expect(limitOf(base())).toBeUndefined();
    expect(limitOf({ ...base(), content: 'c'.repeat(2001) })).toBe('DISCORD_CONTENT');
    expect(limitOf({ ...base(), embeds: Array.from({ length: 11 }, () => ({ description: 'x' })) })).toBe('DISCORD_EMBEDS');
    expect(limitOf({ ...base(), embeds: [{ description: 'x'.repeat(4000) }, { description: 'y'.repeat(2001) }] })).toBe('DISCORD_EMBED_TOTAL');
    expect(limitOf({ ...base(), embeds: [{ title: 't'.repeat(257) }] })).toBe('DISCORD_EMBED_TITLE');
    expect(limitOf({ ...base(), embeds: [{ fields: [{ name: 'n', value: 'v'.repeat(1025) }] }] })).toBe('DISCORD_FIELD_VALUE');
    expect(limitOf({ ...base(), embeds: [{ description: 'hi @everyone' }] })).toBe('allowed_mentions');
    const button = (id: string) => ({ type: 2 as const, custom_id: id, label: 'b', style: 2 as const });
    expect(limitOf({ ...base(), components: [{ type: 1, components: Array.from({ length: 6 }, (_, i) => button(`b${i}`)) }] })).toBe('DISCORD_BUTTONS_PER_ROW');
    expect(limitOf({ ...base(), components: [{ type: 1, components: [button('a'.repeat(101))] }] })).toBe('DISCORD_CUSTOM_ID');
    expect(limitOf({ ...base(), components: [{ type: 1, components: [button('a'), button('a')] }] })).toBe('DISCORD_CUSTOM_ID');
  });
});

describe('RenderValidationError', () => {
  it('carries channel, limit and cause', () => {
    const cause = new RangeError('builder said no');
    const e = new RenderValidationError('discord', '@discordjs/builders', 'refused', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'RenderValidationError', channel: 'discord', limit: '@discordjs/builders', cause });
    expect(e.message).toBe('discord: refused (@discordjs/builders)');
  });
});
