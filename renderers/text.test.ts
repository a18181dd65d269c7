import { describe, expect, it } from 'vitest';
import { escapeMarkdown, renderMarkdown, renderText } from './index.ts';
import { shortOk } from './test-replies.ts';

describe('renderText', () => {
  it('renders plain text with checkbox status marks and actions', () => {
    expect(renderText(shortOk)).toBe('Todo added\n\nAdded “Buy milk” to Groceries.\n\n2. [ ] Buy milk — Groceries\n\nActions:\nDone: done 2\nDelete: delete 2\n\nChittyChat · project Groceries');
  });

  it('shows every item of a long list and normalises line endings', () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ ref: String(i + 1), text: `t${i}` }));
    const out = renderText({ kind: 'info', text: 'a\r\nb', items });
    expect(out.split('\n').filter((l) => /^\d+\. /.test(l))).toHaveLength(500);
    expect(out).not.toContain('\r');
  });

  it('an empty reply renders nothing', () => {
    expect(renderText({ kind: 'ok' })).toBe('');
  });
});

describe('renderMarkdown', () => {
  it('bolds the title and labels, lists items, escapes user text', () => {
    expect(renderMarkdown({ kind: 'ok', title: '*hi*', fields: [{ label: 'a_b', value: '<x>' }], items: [{ ref: '1', text: '[l](u)', status: 'completed' }] })).toBe(
      '**\\*hi\\***\n\n**a\\_b:** \\<x\\>\n\n- 1\\. [x] \\[l\\]\\(u\\)',
    );
    expect(escapeMarkdown('# h')).toBe('\\# h');
  });
});
