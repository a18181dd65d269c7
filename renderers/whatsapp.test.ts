import { describe, expect, it } from 'vitest';
import type { Reply } from '../src/core/reply.ts';
import { RenderValidationError, renderWhatsApp, validateWhatsApp, whatsAppChoices } from './index.ts';
import { longList, shortOk } from './test-replies.ts';

describe('renderWhatsApp', () => {
  it('renders bold title, numbered items, numbered choices and italic footer', () => {
    expect(renderWhatsApp(shortOk)).toBe('*Todo added*\n\nAdded “Buy milk” to Groceries.\n\n2. ⚪ Buy milk — _Groceries_\n\nReply 1 for Done, 2 for Delete.\n\n_ChittyChat · project Groceries_');
    expect(whatsAppChoices(shortOk)).toEqual(['done 2', 'delete 2']);
  });

  it('swaps * _ ~ ` in user text for look-alikes and defuses a leading >', () => {
    expect(renderWhatsApp({ kind: 'ok', title: '*x*', text: '> _a_ ~b~ `c` ```d```' })).toBe('*∗x∗*\n\n＞ ˍaˍ ∼b∼ ˋcˋ ˋˋˋdˋˋˋ');
  });

  it('fields as *label:* value', () => {
    expect(renderWhatsApp({ kind: 'info', fields: [{ label: 'Due', value: 'Friday' }] })).toBe('*Due:* Friday');
  });

  it('stays within 4096 characters, says how many more, and page 2 continues without repeating the text', () => {
    const p1 = renderWhatsApp(longList);
    expect(p1.length).toBeLessThanOrEqual(4096);
    const shown = p1.match(/^\d+\. /gm)?.length ?? 0;
    expect(p1).toContain(`_…and ${200 - shown} more — reply MORE_`);
    const p2 = renderWhatsApp(longList, { page: 2 });
    expect(p2.startsWith('*Todos in Renovation*')).toBe(true);
    expect(p2).not.toContain('All open and finished todos');
    expect(p2).toContain(`\n${shown + 1}. `);
  });

  it('offers at most 9 choices', () => {
    const reply: Reply = { kind: 'ok', actions: Array.from({ length: 12 }, (_, i) => ({ id: `a${i}`, label: `A${i}`, command: `c${i}` })) };
    expect(whatsAppChoices(reply)).toHaveLength(9);
    expect(renderWhatsApp(reply)).toContain('9 for A8.');
  });

  it('an empty reply still sends its kind', () => {
    expect(renderWhatsApp({ kind: 'info' })).toBe('Info');
  });
});

describe('validateWhatsApp', () => {
  it('throws over 4096 characters or when empty', () => {
    expect(() => validateWhatsApp('x'.repeat(4097))).toThrow(RenderValidationError);
    expect(() => validateWhatsApp(' ')).toThrow(RenderValidationError);
    expect(() => validateWhatsApp('x'.repeat(4096))).not.toThrow();
  });
});

describe('WhatsApp choices without words', () => {
  it('names an action with neither label nor command as the other channels do', () => {
    const text = renderWhatsApp({ kind: 'info', text: 'x', actions: [{ id: 'a', label: '', command: '' }] });
    expect(text).toContain('Reply 1 for Action.');
  });
});
