import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.ts';
import { FAMILIES, FAMILY_USAGE, GENERAL_USAGE, helpText, USAGE } from './usage.ts';

describe('usage', () => {
  it('every usage line is one line and starts with its command words', () => {
    for (const [key, line] of Object.entries(USAGE)) {
      expect(line).not.toContain('\n');
      expect(line.startsWith(key.split('.')[0] ?? '')).toBe(true);
    }
    for (const line of [...Object.values(FAMILY_USAGE), GENERAL_USAGE]) expect(line).not.toContain('\n');
  });

  it('every usage example (without optional parts) parses or asks for the missing part', () => {
    for (const line of Object.values(USAGE)) {
      const bare = line.split('  (')[0]?.replace(/\[[^\]]*\]/g, '').trim() ?? '';
      expect(() => parseCommand(bare)).not.toThrow();
    }
  });
});

describe('helpText', () => {
  it('without a topic lists every command on its own line', () => {
    const text = helpText();
    expect(text.split('\n').length).toBeGreaterThan(30);
    for (const line of Object.values(USAGE)) expect(text).toContain(line);
    expect(text).toContain('Short forms');
    expect(helpText('')).toBe(text);
  });

  it.each<[string, string]>([
    ['todo add', USAGE['todo.add']],
    ['/TODO Add', USAGE['todo.add']],
    ['sync resolve', USAGE['sync.resolve']],
    ['done', USAGE['todo.done']],
    ['add', USAGE['todo.add']],
    ['list', USAGE['todo.list']],
    ['subscribe', USAGE.subscribe],
    ['more', USAGE.more],
    ['stop', USAGE.stop],
  ])('help %j is one usage line', (topic, expected) => {
    expect(helpText(topic)).toBe(expected);
  });

  it.each(['todo', 'todos', 'sync', 'project', 'topic', 'session', 'link'] as const)('help %j lists its family', (topic) => {
    const family = topic === 'todos' ? 'todo' : topic;
    expect(helpText(topic)).toBe(FAMILIES[family].map((k) => USAGE[k]).join('\n'));
  });

  it('an unknown topic says so, then shows the overview', () => {
    const text = helpText('frobnicate');
    expect(text.startsWith('No help for "frobnicate".\n')).toBe(true);
    expect(text).toContain(USAGE['todo.add']);
  });

  it.each(['constructor', '__proto__'])('help %j is an unknown topic, not an Object.prototype member', (topic) => {
    expect(helpText(topic).startsWith(`No help for "${topic}".\n`)).toBe(true);
  });
});
