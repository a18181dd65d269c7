/**
 * Discord slash commands, built from the grammar's own command definitions (`FAMILIES` and the
 * `USAGE` line of each command in commands/grammar), so what `npm run discord:register` registers
 * and what the grammar parses cannot drift: one family is one slash command (`/todo`), each of its
 * commands a subcommand (`/todo add`), each `<positional>`, `[--flag]` and `[keyword X | …]` of
 * the usage line an option. An interaction's options become the command text again
 * (`/todo add content:"Write brief" project:Alpha` → `todo add Write brief --project Alpha`).
 * `/chitty text:…` is the catch-all that runs any text, like typing it.
 * https://discord.com/developers/docs/interactions/application-commands
 */
import { SlashCommandBuilder, type SlashCommandSubcommandBuilder } from '@discordjs/builders';
import { FAMILIES, USAGE, type Family, type UsageKey } from '../../commands/grammar/index.ts';

/** Discord's limits for command names, descriptions and choices. */
export const DISCORD_COMMAND_DESCRIPTION = 100;
export const DISCORD_CHOICES = 25;

/** The catch-all command: its one option is run as typed. */
export const CATCH_ALL_COMMAND = 'chitty';

/** How an option's value is written back into the command text. */
export type OptionForm =
  | { kind: 'positional' }
  | { kind: 'flag'; flag: string }
  /** `project P` / `all` in `subscribe [project P | topic T]`. */
  | { kind: 'keyword'; word: string };

export interface OptionDef {
  name: string;
  type: 'string' | 'boolean';
  required: boolean;
  choices?: readonly string[];
  description: string;
  form: OptionForm;
}

export interface SubcommandDef {
  /** Subcommand name (`add`), or the family's own name for a family without subcommands. */
  name: string;
  usageKey: UsageKey;
  /** The words the command text starts with (`todo add`, `link approve`, `sync`). */
  literal: string;
  description: string;
  /** In usage-line order (the order the text is written in). */
  options: OptionDef[];
}

export interface CommandDef {
  name: string;
  description: string;
  /** Set for a family with several commands; else `self` is the command. */
  subcommands?: SubcommandDef[];
  self?: SubcommandDef;
}

/** Placeholder names in usage lines → option names people see in Discord. */
const PLACEHOLDER_NAMES: Readonly<Record<string, string>> = { P: 'project', T: 'topic', S: 'session', D: 'description', text: 'content' };
/** Name of a positional that is a list of choices (`sync <todos|…|all>`), per usage key. */
const CHOICE_POSITIONAL_NAMES: Readonly<Partial<Record<UsageKey, string>>> = { sync: 'domain' };
/** Subcommand name of a family's bare command (`sync <domain>` → `/sync run`). */
const BARE_SUBCOMMAND = 'run';

const cut = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);
const optionName = (raw: string): string =>
  (PLACEHOLDER_NAMES[raw] ?? raw)
    .toLowerCase()
    .replace(/[^-_\p{L}\p{N}]/gu, '-')
    .slice(0, 32);
const choicesOf = (raw: string): string[] | undefined =>
  raw.includes('|') && !raw.includes('<')
    ? raw
        .split('|')
        .map((c) => c.trim())
        .filter((c) => c !== '' && c !== '…')
    : undefined;

/** Reads one usage line into the command's literal words and its options. */
export function parseUsage(key: UsageKey, line: string): { literal: string; options: OptionDef[] } {
  const main = line.split(/\s{2,}\(/u)[0]!.trim();
  const parts = main.match(/\[[^\]]*\]|<[^>]*>|\S+/gu) ?? [];
  const literal: string[] = [];
  const options: OptionDef[] = [];
  let inArgs = false;
  for (const part of parts) {
    const bracketed = part.startsWith('[');
    const inner = bracketed ? part.slice(1, -1).trim() : part;
    if (!bracketed && !part.startsWith('<') && !inArgs) {
      literal.push(part);
      continue;
    }
    inArgs = true;
    const required = !bracketed;
    if (inner.startsWith('--')) {
      const [flagWord, ...valueWords] = inner.split(/\s+/u);
      const flag = flagWord!.slice(2);
      const value = valueWords.join(' ');
      const choices = choicesOf(value);
      options.push({
        name: optionName(flag),
        type: value === '' ? 'boolean' : 'string',
        required,
        ...(choices ? { choices } : {}),
        description: cut(`--${flag}${value ? ` ${value}` : ''}`, DISCORD_COMMAND_DESCRIPTION),
        form: { kind: 'flag', flag },
      });
    } else if (inner.startsWith('<')) {
      const raw = inner.slice(1, -1);
      const choices = choicesOf(raw);
      const name = choices ? (CHOICE_POSITIONAL_NAMES[key] ?? 'value') : optionName(raw);
      options.push({ name, type: 'string', required, ...(choices ? { choices } : {}), description: cut(choices ? raw : raw, DISCORD_COMMAND_DESCRIPTION), form: { kind: 'positional' } });
    } else if (inner.includes('|')) {
      // Keyword alternatives: `project P | topic T | all`.
      for (const alt of inner.split('|').map((a) => a.trim())) {
        const [word, placeholder] = alt.split(/\s+/u);
        if (!word) continue;
        options.push({ name: optionName(word), type: placeholder ? 'string' : 'boolean', required: false, description: cut(alt, DISCORD_COMMAND_DESCRIPTION), form: { kind: 'keyword', word } });
      }
    } else {
      // `[command]`: an optional word.
      options.push({ name: optionName(inner), type: 'string', required: false, description: inner, form: { kind: 'positional' } });
    }
  }
  return { literal: literal.join(' '), options };
}

/** The commands of a family that belong to it (`stop` is listed under unsubscribe and is its own family). */
function familyKeys(family: Family): UsageKey[] {
  return (FAMILIES[family] as readonly UsageKey[]).filter((k) => k === family || k.startsWith(`${family}.`));
}

function subcommandOf(family: Family, key: UsageKey, alone: boolean): SubcommandDef {
  const { literal, options } = parseUsage(key, USAGE[key]);
  const name = alone ? family : key === family ? BARE_SUBCOMMAND : key.slice(family.length + 1);
  return { name, usageKey: key, literal, description: cut(USAGE[key], DISCORD_COMMAND_DESCRIPTION), options };
}

/** Every slash command, one per grammar family, plus the `/chitty` catch-all. */
export function discordCommandDefs(): CommandDef[] {
  const defs: CommandDef[] = [];
  for (const family of Object.keys(FAMILIES) as Family[]) {
    const keys = familyKeys(family);
    if (keys.length === 1 && keys[0] === family) {
      const self = subcommandOf(family, family as UsageKey, true);
      defs.push({ name: family, description: self.description, self });
    } else {
      const subcommands = keys.map((k) => subcommandOf(family, k, false));
      defs.push({ name: family, description: cut(`${family}: ${subcommands.map((s) => s.name).join(', ')}`, DISCORD_COMMAND_DESCRIPTION), subcommands });
    }
  }
  return defs;
}

const CATCH_ALL: CommandDef = {
  name: CATCH_ALL_COMMAND,
  description: 'Run any ChittyChat command as text, e.g. todo add Buy milk --due fri',
  self: {
    name: CATCH_ALL_COMMAND,
    usageKey: 'help',
    literal: '',
    description: 'Run any ChittyChat command as text',
    options: [{ name: 'text', type: 'string', required: true, description: 'The command, e.g. todo list --mine', form: { kind: 'positional' } }],
  },
};

let cached: Map<string, CommandDef> | undefined;
/** Definitions by command name, the catch-all included. */
export function commandDefsByName(): Map<string, CommandDef> {
  cached ??= new Map([...discordCommandDefs(), CATCH_ALL].map((d) => [d.name, d]));
  return cached;
}

function addOptions(b: SlashCommandBuilder | SlashCommandSubcommandBuilder, options: readonly OptionDef[]): void {
  // Discord wants required options first; the text keeps usage order.
  for (const o of [...options.filter((x) => x.required), ...options.filter((x) => !x.required)]) {
    if (o.type === 'boolean') {
      b.addBooleanOption((x) => x.setName(o.name).setDescription(o.description).setRequired(o.required));
    } else {
      b.addStringOption((x) => {
        x.setName(o.name).setDescription(o.description).setRequired(o.required);
        if (o.choices) x.addChoices(...o.choices.slice(0, DISCORD_CHOICES).map((c) => ({ name: c, value: c })));
        return x;
      });
    }
  }
}

/** The JSON `PUT /applications/{id}/commands` takes, validated by the builders. */
export function slashCommandsJson(): ReturnType<SlashCommandBuilder['toJSON']>[] {
  return [...commandDefsByName().values()].map((def) => {
    const b = new SlashCommandBuilder().setName(def.name).setDescription(def.description);
    if (def.self) addOptions(b, def.self.options);
    for (const sub of def.subcommands ?? []) {
      b.addSubcommand((s) => {
        s.setName(sub.name).setDescription(sub.description);
        addOptions(s, sub.options);
        return s;
      });
    }
    return b.toJSON();
  });
}

// ---------------------------------------------------------------------------------------------
// Interaction options → command text

/** An option as it arrives in `data.options` (subcommands and groups nest `options`). */
export interface InteractionOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: InteractionOption[];
  focused?: boolean;
}

const SUB_COMMAND = 1;
const SUB_COMMAND_GROUP = 2;
const QUOTE_CHARS = /["'\u201C\u201D\u2018\u2019\u201E\u00AB\u00BB]/u;

/** One value as a single word of the grammar: bare when it is one plain word, else quoted. */
export function quoteWord(value: string): string {
  if (value !== '' && !/\s/u.test(value) && !QUOTE_CHARS.test(value[0]!) && !/^[-\u2014\u2013]/u.test(value)) return value;
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'") && !value.includes('\u2019')) return `'${value}'`;
  return `\u00AB${value.replaceAll('\u00BB', '"')}\u00BB`;
}

/** The last positional takes the rest of the line: left bare unless a word would read as a flag or a quote. */
function restWords(value: string): string {
  const words = value.trim().split(/\s+/u);
  const risky = words.some((w) => /^[-\u2014\u2013]/u.test(w)) || QUOTE_CHARS.test(value.trim()[0] ?? '');
  return risky || value.trim() === '' ? quoteWord(value.trim()) : words.join(' ');
}

const asText = (v: InteractionOption['value']): string => (v === undefined ? '' : String(v));

/** Writes a subcommand's options back as the grammar's text. */
export function commandText(sub: SubcommandDef, given: readonly InteractionOption[]): string {
  const byName = new Map(given.map((o) => [o.name, o]));
  const out: string[] = sub.literal === '' ? [] : [sub.literal];
  const positionals = sub.options.filter((o) => o.form.kind === 'positional');
  const lastPositional = positionals[positionals.length - 1];
  for (const o of sub.options) {
    const v = byName.get(o.name)?.value;
    if (v === undefined || v === '' || v === false) continue;
    if (o.form.kind === 'positional') out.push(sub.name === CATCH_ALL_COMMAND ? asText(v) : o === lastPositional ? restWords(asText(v)) : quoteWord(asText(v)));
    else if (o.form.kind === 'flag') out.push(o.type === 'boolean' ? `--${o.form.flag}` : `--${o.form.flag} ${quoteWord(asText(v))}`);
    else out.push(o.type === 'boolean' ? o.form.word : `${o.form.word} ${restWords(asText(v))}`);
  }
  return out.join(' ');
}

/** Options of a command we do not define, flattened so the grammar can say what it is missing. */
function genericText(name: string, options: readonly InteractionOption[]): string {
  const out = [name];
  for (const o of options) {
    if (o.type === SUB_COMMAND || o.type === SUB_COMMAND_GROUP) out.push(o.name, genericText('', o.options ?? []).trim());
    else if (o.value !== undefined) out.push(typeof o.value === 'boolean' ? (o.value ? `--${o.name}` : '') : `--${o.name} ${quoteWord(asText(o.value))}`);
  }
  return out.filter((w) => w !== '').join(' ');
}

/** Finds the subcommand an interaction chose and the options given to it. */
export function chosenSubcommand(
  name: string,
  options: readonly InteractionOption[] | undefined,
): { def: CommandDef | undefined; sub: SubcommandDef | undefined; given: readonly InteractionOption[] } {
  const def = commandDefsByName().get(name);
  let given: readonly InteractionOption[] = options ?? [];
  const path: string[] = [];
  for (let o = given[0]; o && (o.type === SUB_COMMAND_GROUP || o.type === SUB_COMMAND); o = given[0]) {
    path.push(o.name);
    given = o.options ?? [];
  }
  if (!def) return { def, sub: undefined, given };
  const sub = def.self && path.length === 0 ? def.self : path.length === 1 ? def.subcommands?.find((s) => s.name === path[0]) : undefined;
  return { def, sub, given };
}

/** A chat-input interaction's name and options → the command text the grammar reads. */
export function interactionText(name: string, options: readonly InteractionOption[] | undefined): string {
  const { sub, given } = chosenSubcommand(name, options);
  return sub ? commandText(sub, given) : genericText(name, options ?? []);
}

/** Autocomplete: the focused option's choices that start with what was typed (at most 25). */
export function autocompleteChoices(name: string, options: readonly InteractionOption[] | undefined): { name: string; value: string }[] {
  const { sub, given } = chosenSubcommand(name, options);
  const focused = given.find((o) => o.focused);
  if (!sub || !focused) return [];
  const def = sub.options.find((o) => o.name === focused.name);
  const typed = asText(focused.value).toLowerCase();
  return (def?.choices ?? [])
    .filter((c) => c.toLowerCase().startsWith(typed))
    .slice(0, DISCORD_CHOICES)
    .map((c) => ({ name: c, value: c }));
}
