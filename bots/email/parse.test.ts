import { describe, expect, it } from 'vitest';
import { commandFor } from './parse.ts';

const ID = 'CHITTY-TODO-01J0000000000000000000000A';

describe('commandFor: what a reply means for its todo', () => {
  it.each<[string, string]>([
    ['done', `todo done ${ID}`],
    ['Start!\n', `todo start ${ID}`],
    ['edit Write the brief', `todo edit ${ID} Write the brief`],
    ['comment Looks good', `todo comment ${ID} Looks good`],
    ['Comment Looks good.\nShip it on Friday.\n', `todo comment ${ID} Looks good. Ship it on Friday.`],
    ['/comment   spaced   out', `todo comment ${ID} spaced   out`],
    ['comment', 'comment'],
    ['todo list', 'todo list'],
  ])('%j', (text, expected) => {
    expect(commandFor(text, ID)).toBe(expected);
  });

  it('leaves the text alone when the thread is not a todo', () => {
    expect(commandFor('comment Looks good', 'CHITTY-PROJ-01J0000000000000000000000A')).toBe('comment Looks good');
  });
});
