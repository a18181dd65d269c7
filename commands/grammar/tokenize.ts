/**
 * Splits what a person typed into words and flags. Forgiving by design: quotes may be straight
 * or smart, `--` may have been autocorrected to an em dash, and nothing here ever throws.
 */

/** A bare or quoted word. `quoted` is true when the word was written in quotes. */
export interface WordToken {
  kind: 'word';
  text: string;
  quoted: boolean;
}

/**
 * `--name`, `--name=value`, `—name` or `–name` (em/en dash from phone autocorrect).
 * `name` is lower-cased with `_` read as `-`; `value` is only set for the `=` form — whether a
 * flag takes the next word as its value is the grammar's decision, not the tokenizer's.
 */
export interface FlagToken {
  kind: 'flag';
  name: string;
  value?: string;
}

export type Token = WordToken | FlagToken;

/** Opening quote → the characters that may close it (phones mix straight and smart quotes). */
const CLOSERS: Readonly<Record<string, readonly string[]>> = {
  '"': ['"', '\u201D', '\u201C'],
  "'": ["'", '\u2019'],
  '\u201C': ['\u201D', '"', '\u201C'], // “ … ” (or a stray straight/left quote)
  '\u2018': ['\u2019', "'"], // ‘ … ’
  '\u201E': ['\u201C', '\u201D', '"'], // „ … “ (German keyboards)
  '\u00AB': ['\u00BB'], // « … »
};

/** `--`, `—`, `–`, `—-` or `–-` followed by a flag name. */
const FLAG_PREFIX = /^(?:--|[\u2014\u2013]-?)(?=[^\s=])/u;
const SPACE = /\s/u;

const isSpace = (ch: string | undefined): boolean => ch !== undefined && SPACE.test(ch);

interface Read {
  text: string;
  quoted: boolean;
  end: number;
}

/** Reads one word starting at `start` (not whitespace). Quotes count only at the start of a word. */
function readWord(input: string, start: number): Read {
  const open = input[start];
  const closers = open === undefined ? undefined : CLOSERS[open];
  if (closers !== undefined) {
    // A closing quote ends the word only when followed by whitespace or the end ("Mom's gift").
    for (let j = start + 1; j < input.length; j++) {
      const ch = input[j];
      if (ch !== undefined && closers.includes(ch) && (j + 1 === input.length || isSpace(input[j + 1]))) {
        return { text: input.slice(start + 1, j), quoted: true, end: j + 1 };
      }
    }
    // Otherwise the first closer anywhere, and the word runs on to the next space ("a"b → ab).
    for (let j = start + 1; j < input.length; j++) {
      const ch = input[j];
      if (ch !== undefined && closers.includes(ch)) {
        let k = j + 1;
        while (k < input.length && !isSpace(input[k])) k++;
        return { text: input.slice(start + 1, j) + input.slice(j + 1, k), quoted: true, end: k };
      }
    }
    // Unterminated: the rest of the text is one word.
    return { text: input.slice(start + 1).trimEnd(), quoted: true, end: input.length };
  }
  let k = start;
  while (k < input.length && !isSpace(input[k])) k++;
  return { text: input.slice(start, k), quoted: false, end: k };
}

/** Tokenizes a command line. Never throws. */
export function tokenize(text: string): Token[] {
  const input = String(text);
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    if (isSpace(input[i])) {
      i++;
      continue;
    }
    const prefix = FLAG_PREFIX.exec(input.slice(i, i + 3));
    if (prefix !== null) {
      let k = i + prefix[0].length;
      const nameStart = k;
      while (k < input.length && !isSpace(input[k]) && input[k] !== '=') k++;
      const name = input.slice(nameStart, k).toLowerCase().replaceAll('_', '-');
      if (input[k] === '=') {
        if (k + 1 >= input.length || isSpace(input[k + 1])) {
          tokens.push({ kind: 'flag', name, value: '' });
          i = k + 1;
        } else {
          const value = readWord(input, k + 1);
          tokens.push({ kind: 'flag', name, value: value.text });
          i = value.end;
        }
      } else {
        tokens.push({ kind: 'flag', name });
        i = k;
      }
      continue;
    }
    const word = readWord(input, i);
    tokens.push({ kind: 'word', text: word.text, quoted: word.quoted });
    i = word.end;
  }
  return tokens;
}
