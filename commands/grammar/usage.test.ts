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

  it('every usage example (without optional parts) parses to its command or answers with its own usage line', () => {
    for (const [key, line] of Object.entries(USAGE)) {
      const bare =
        line
          .split('  (')[0]
          ?.replace(/\[[^\]]*\]/g, '')
          .trim() ?? '';
      const r = parseCommand(bare);
      if (r.ok) expect(r.command.name, bare).toBe(key === 'stop' ? 'unsubscribe' : key);
      else expect(r.usage, bare).toBe(line);
    }
  });

  it('every usage example with its placeholders filled in parses to that command', () => {
    const fill: Record<string, string> = { text: 'Buy milk', ref: '2', who: 'me', conflict: '1', choice: '2', name: 'Groceries', P: 'Groceries', T: 'Design', S: 'Sprint', code: 'AB12CD' };
    for (const [key, line] of Object.entries(USAGE)) {
      const bare =
        line
          .split('  (')[0]
          ?.replace(/\[[^\]]*\]/g, '')
          .trim() ?? '';
      const example = bare.replace(/<([A-Za-z]+)>/g, (_, p: string) => fill[p] ?? p).replace(/<[^>]*\|[^>]*>/g, (alts) => alts.slice(1).split('|')[0] ?? '');
      const r = parseCommand(example);
      expect(r, example).toMatchObject({ ok: true, command: { name: key === 'stop' ? 'unsubscribe' : key } });
    }
    expect(parseCommand('todo done 2')).toEqual({ ok: true, command: { name: 'todo.done', ref: { kind: 'index', index: 2 } } });
  });

  it('the usage lines name the real choices', () => {
    expect(USAGE['todo.add']).toContain('--priority low|medium|high');
    expect(USAGE['todo.list']).toContain('--status pending|in_progress|completed|blocked');
    expect(USAGE.sync).toMatch(/^sync <topics\|projects\|sessions\|todos\|[^>]*\|all>/);
    expect(parseCommand('todo add')).toMatchObject({ ok: false, usage: USAGE['todo.add'] });
    expect(parseCommand('todo frobnicate')).toMatchObject({ ok: false, usage: FAMILY_USAGE.todo });
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
    ['comment', USAGE['todo.comment']],
    ['todo comment', USAGE['todo.comment']],
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
