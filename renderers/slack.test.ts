import { describe, expect, it } from 'vitest';
import type { Reply } from '../src/core/reply.ts';
import { renderSlack, SLACK_MESSAGE_BLOCKS_TEXT, type SlackBlock, slackBlocksText, type SlackPayload, validateSlack } from './index.ts';
import { brokenLimit, slackViolations } from './test-checks.ts';
import { shortOk } from './test-replies.ts';

const sections = (blocks: SlackBlock[]): string[] => blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));

describe('renderSlack', () => {
  it('renders header, text, items with status emoji, footer context and buttons', () => {
    const { text, blocks } = renderSlack(shortOk);
    expect(text).toBe('Todo added: Added “Buy milk” to Groceries.');
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Todo added', emoji: true } });
    expect(sections(blocks)).toContain(':white_circle: *2.* Buy milk — _Groceries_');
    expect(blocks).toContainEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: 'ChittyChat · project Groceries', verbatim: true }] });
    expect(blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Done', emoji: true }, action_id: 'todo.done:2', value: 'done 2', style: 'primary' },
        { type: 'button', text: { type: 'plain_text', text: 'Delete', emoji: true }, action_id: 'todo.delete:2', value: 'delete 2', style: 'danger' },
      ],
    });
  });

  it('uses one emoji per status', () => {
    const reply: Reply = {
      kind: 'info',
      items: (['completed', 'in_progress', 'blocked', 'pending'] as const).map((status, i) => ({ ref: String(i + 1), text: 't', status })),
    };
    expect(
      sections(renderSlack(reply).blocks)[0]
        ?.split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual([':white_check_mark:', ':hourglass_flowing_sand:', ':no_entry:', ':white_circle:']);
  });

  it('escapes & < > as entities and neutralises * _ ~ ` and a leading >', () => {
    const [section] = sections(renderSlack({ kind: 'ok', text: '> a & b <@U1> *b* _i_ ~s~ `c`' }).blocks);
    expect(section).toBe('＞ a &amp; b &lt;@U1&gt; ∗b∗ ˍiˍ ∼s∼ ˋcˋ');
  });

  it('fields go in sections of at most 10, with a note for more than 20', () => {
    const reply: Reply = { kind: 'info', fields: Array.from({ length: 23 }, (_, i) => ({ label: `L${i}`, value: `v${i}` })) };
    const { blocks } = renderSlack(reply);
    const fieldBlocks = blocks.filter((b) => b.type === 'section' && b.fields);
    expect(fieldBlocks.map((b) => (b.type === 'section' ? b.fields?.length : 0))).toEqual([10, 10]);
    expect(JSON.stringify(blocks)).toContain('…and 3 more fields');
  });

  it('a list too long for 50 blocks stops, says how many more, and offers a More button; page 2 continues', () => {
    const reply: Reply = {
      kind: 'info',
      title: 'Long',
      text: 'body',
      items: Array.from({ length: 300 }, (_, i) => ({ ref: String(i + 1), text: `item ${i + 1} ${'x'.repeat(900)}` })),
    };
    const p1 = renderSlack(reply);
    expect(p1.blocks.length).toBeLessThanOrEqual(50);
    expect(slackViolations(p1)).toEqual([]);
    const shown =
      sections(p1.blocks)
        .join('\n')
        .match(/\*(\d+)\.\*/g)?.length ?? 0;
    expect(JSON.stringify(p1.blocks)).toContain(`…and ${300 - shown} more — reply \`more\``);
    expect(p1.blocks.at(-1)).toEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'More', emoji: true }, action_id: 'more', value: 'more' }] });
    const p2 = renderSlack(reply, { page: 2 });
    expect(sections(p2.blocks).join('\n')).toContain(`*${shown + 1}.*`);
    expect(sections(p2.blocks)).not.toContain('body');
    expect(p2.blocks[0]?.type).toBe('header');
  });

  it('packs each section to at most 3000 characters', () => {
    const reply: Reply = { kind: 'info', items: Array.from({ length: 40 }, (_, i) => ({ ref: String(i), text: 'y'.repeat(290) })) };
    for (const s of sections(renderSlack(reply).blocks)) expect(s.length).toBeLessThanOrEqual(3000);
  });

  it('splits long text over sections and cuts it with an ellipsis after four', () => {
    const { blocks } = renderSlack({ kind: 'info', text: 'word '.repeat(4000) });
    const texts = sections(blocks);
    expect(texts).toHaveLength(4);
    expect(texts.at(-1)?.endsWith('…')).toBe(true);
  });

  it('caps buttons at 49 (+More) in blocks of 25, with unique action_ids per block and blank labels filled', () => {
    const actions = Array.from({ length: 60 }, (_, i) => ({ id: i < 3 ? 'same' : `a${i}`, label: i === 5 ? '' : `Label ${i}`, command: `cmd ${i}` }));
    const { blocks } = renderSlack({ kind: 'ok', actions });
    const actionBlocks = blocks.filter((b) => b.type === 'actions');
    expect(actionBlocks).toHaveLength(2);
    const first = actionBlocks[0]?.type === 'actions' ? actionBlocks[0].elements : [];
    expect(first.slice(0, 3).map((e) => e.action_id)).toEqual(['same', 'same#2', 'same#3']);
    expect(first[5]?.text.text).toBe('cmd 5');
  });

  it('an empty reply still renders one valid section', () => {
    expect(renderSlack({ kind: 'error' }).blocks).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: 'Error', verbatim: true } }]);
  });
});

describe('validateSlack', () => {
  const section = (text: string): SlackBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
  const limitOf = (payload: SlackPayload): string | undefined => brokenLimit(() => validateSlack(payload));

  it('names the limit that was broken', () => {
    expect(limitOf({ text: 'x', blocks: Array.from({ length: 51 }, () => section('x')) })).toBe('SLACK_MAX_BLOCKS');
    expect(limitOf({ text: 'x', blocks: [section('x'.repeat(3001))] })).toBe('SLACK_SECTION_TEXT');
    expect(limitOf({ text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).toBe('SLACK_HEADER_TEXT');
    expect(limitOf({ text: 'x'.repeat(3001), blocks: [] })).toBe('SLACK_FALLBACK_TEXT');
    expect(limitOf({ text: 'x', blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn' as const, text: 'f' })) }] })).toBe('SLACK_SECTION_FIELDS');
    const button = (id: string) => ({ type: 'button' as const, text: { type: 'plain_text' as const, text: 'b' }, action_id: id, value: 'v' });
    expect(limitOf({ text: 'x', blocks: [{ type: 'actions', elements: [button('a'), button('a')] }] })).toBe('SLACK_ACTION_ID');
    expect(limitOf({ text: 'x', blocks: [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) }] })).toBe('SLACK_ACTIONS_ELEMENTS');
    expect(limitOf({ text: 'x', blocks: [section('ok')] })).toBeUndefined();
  });
});

describe('renderSlack: total text per message (SLACK_MESSAGE_BLOCKS_TEXT)', () => {
  // `todo list` of a 200-todo project: before paging on total text this was 25,969 characters in one
  // message, every block within its own limit, and Slack refused it with msg_blocks_too_long.
  const list: Reply = {
    kind: 'info',
    title: 'Todos — Alpha',
    items: Array.from({ length: 200 }, (_, i) => ({
      ref: String(i + 1),
      text: `Write the brief for workstream ${i + 1} and circulate it to the team for review`,
      status: i % 3 === 0 ? ('completed' as const) : ('pending' as const),
      detail: `Alpha · due 2026-12-${String((i % 28) + 1).padStart(2, '0')}`,
    })),
    footer: '200 todos',
  };
  const refsOf = (p: SlackPayload) => sections(p.blocks).flatMap((t) => [...t.matchAll(/\*(\d+)\.\*/g)].map((m) => Number(m[1])));
  const hasMore = (p: SlackPayload) => p.blocks.some((b) => b.type === 'actions' && b.elements.some((e) => e.value === 'more'));

  it('pages the list so no message carries more than 12,000 characters, with a More button, and every item shows once', () => {
    const seen: number[] = [];
    let page = 1;
    for (; page < 20; page++) {
      const p = renderSlack(list, { page });
      expect(slackBlocksText(p.blocks)).toBeLessThanOrEqual(SLACK_MESSAGE_BLOCKS_TEXT);
      seen.push(...refsOf(p));
      if (!hasMore(p)) break;
    }
    expect(page).toBeGreaterThan(1);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('a short list is one message without More', () => {
    const p = renderSlack({ ...list, items: list.items!.slice(0, 5) });
    expect(hasMore(p)).toBe(false);
    expect(refsOf(p)).toEqual([1, 2, 3, 4, 5]);
  });
});
