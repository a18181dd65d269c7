import { describe, expect, it } from 'vitest';
import { tokenize, type Token } from './tokenize.ts';

const w = (text: string, quoted = false): Token => ({ kind: 'word', text, quoted });
const f = (name: string, value?: string): Token => (value === undefined ? { kind: 'flag', name } : { kind: 'flag', name, value });

describe('tokenize', () => {
  it.each<[string, Token[]]>([
    ['', []],
    ['   \t\n ', []],
    ['todo add Buy milk', [w('todo'), w('add'), w('Buy'), w('milk')]],
    ['  spaced   out\u00A0words ', [w('spaced'), w('out'), w('words')]],
    ['"double quoted" x', [w('double quoted', true), w('x')]],
    ["'single quoted' x", [w('single quoted', true), w('x')]],
    ['\u201Csmart double\u201D x', [w('smart double', true), w('x')]],
    ['\u2018smart single\u2019 x', [w('smart single', true), w('x')]],
    ['\u201Cmixed close" x', [w('mixed close', true), w('x')]],
    ['\u201Esplit\u201C x', [w('split', true), w('x')]],
    ["'Mom's gift' x", [w("Mom's gift", true), w('x')]],
    ["Don't stop", [w("Don't"), w('stop')]],
    ['Don\u2019t stop', [w('Don\u2019t'), w('stop')]],
    ['"unterminated rest of  text  ', [w('unterminated rest of  text', true)]],
    ['"a"b c', [w('ab', true), w('c')]],
    ['""', [w('', true)]],
    ['--project P', [f('project'), w('P')]],
    ['--project=P', [f('project', 'P')]],
    ['--project="My Project" x', [f('project', 'My Project'), w('x')]],
    ['--project=\u201CMy Project\u201D', [f('project', 'My Project')]],
    ['--project= x', [f('project', ''), w('x')]],
    ['--Priority HIGH', [f('priority'), w('HIGH')]],
    ['--dry_run', [f('dry-run')]],
    ['\u2014project P', [f('project'), w('P')]],
    ['\u2013project P', [f('project'), w('P')]],
    ['\u2014-project=P', [f('project', 'P')]],
    ['\u2014mine', [f('mine')]],
    ['"--project" x', [w('--project', true), w('x')]],
    ['a -- b', [w('a'), w('--'), w('b')]],
    ['a \u2014 b', [w('a'), w('\u2014'), w('b')]],
    ['a -x b', [w('a'), w('-x'), w('b')]],
    ['wait\u2014what', [w('wait\u2014what')]],
    ['--=x', [w('--=x')]],
  ])('%j', (input, expected) => {
    expect(tokenize(input)).toEqual(expected);
  });

  it('never throws on odd input', () => {
    for (const input of ['"', "'", '\u201C', '--', '--=', '\u2014', '\uD800', '\u0000--x=\uDFFF', '"\u201D\u201C', '= = =']) {
      expect(() => tokenize(input)).not.toThrow();
    }
  });
});
