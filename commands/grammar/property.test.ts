import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands.ts';
import { tokenize } from './tokenize.ts';

const NOW = new Date('2025-06-04T10:00:00.000Z');

/** Pieces that push the parser down its real paths: command words, flags, quotes, dashes, dates. */
const piece = fc.oneof(
  fc.constantFrom(
    '/',
    'todo',
    'TODO',
    'add',
    'list',
    'done',
    'start',
    'block',
    'reopen',
    'edit',
    'assign',
    'delete',
    'reconcile',
    'sync',
    'all',
    'todos',
    'status',
    'conflicts',
    'resolve',
    'project',
    'topic',
    'session',
    'create',
    'show',
    'use',
    'archive',
    'end',
    'subscribe',
    'unsubscribe',
    'subscriptions',
    'link',
    'approve',
    'help',
    'more',
    'stop',
    '#2',
    '2',
    '0',
    '-1',
    'CHITTY-TODO-01ARZ3NDEKTSV4RRFFQ69G5FAV',
    '--project',
    '--due',
    '--priority',
    '--status',
    '--mine',
    '--dry-run',
    '--domains',
    '--description',
    '--assign',
    '--session',
    '—due',
    '–mine',
    '--due=',
    '--mine=no',
    'fri',
    'tomorrow',
    '5pm',
    'high',
    'done,',
    'todos,sessions',
    '"',
    "'",
    '“',
    '”',
    '‘',
    '’',
    '„',
    '«',
    '=',
    '--',
    '—',
    ' ',
    '\t',
    '\n',
    '\uD800',
  ),
  fc.string({ maxLength: 6 }),
);
const commandish = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(' '));

function wellFormed(text: string): void {
  let result: ReturnType<typeof parseCommand> | undefined;
  expect(() => {
    result = parseCommand(text, NOW);
  }).not.toThrow();
  expect(result).toBeDefined();
  if (result === undefined) return;
  if (result.ok) {
    expect(typeof result.command.name).toBe('string');
  } else {
    expect(result.error.trim().length).toBeGreaterThan(0);
    expect(result.usage.trim().length).toBeGreaterThan(0);
    expect(result.error).not.toMatch(/\n\s+at /); // no stack traces
  }
}

describe('parseCommand properties', () => {
  it('never throws on arbitrary strings and always answers', () => {
    fc.assert(
      fc.property(fc.string(), (text) => wellFormed(text)),
      { numRuns: 500 },
    );
  });

  it('never throws on full-Unicode strings (incl. astral and lone surrogates)', () => {
    const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => wellFormed(text)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => wellFormed(text)),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(loneSurrogate, fc.constantFrom('"', '—', '-', ' ')) }), (text) => wellFormed(text)),
      { numRuns: 300 },
    );
  });

  it('never throws on command-shaped strings', () => {
    fc.assert(
      fc.property(commandish, (text) => wellFormed(text)),
      { numRuns: 1500 },
    );
  });

  it('is the same with or without a leading slash and in any case of the command word', () => {
    fc.assert(
      fc.property(commandish, (text) => {
        const trimmed = text.trim();
        if (trimmed.startsWith('/')) return;
        expect(parseCommand(`/${trimmed}`, NOW)).toEqual(parseCommand(trimmed, NOW));
      }),
      { numRuns: 500 },
    );
  });

  it('tokenize never throws and never yields an empty flag name', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), commandish), (text) => {
        for (const t of tokenize(text)) if (t.kind === 'flag') expect(t.name.length).toBeGreaterThan(0);
      }),
      { numRuns: 800 },
    );
  });

  it('refuses anything over 4000 characters', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 4001, maxLength: 4100, unit: 'grapheme-ascii' }), (text) => {
        const r = parseCommand(text, NOW);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error).toMatch(/^Command too long/);
      }),
      { numRuns: 20 },
    );
  });
});
