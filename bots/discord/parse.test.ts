/**
 * Interaction parsing against every Discord interaction of the shared corpus
 * (../shared/corpus/discord, read at run time), plus the traps the corpus README names:
 * member.user vs user, absent options, snowflakes above 2^53, threads, autocomplete, PING.
 */
import { describe, expect, it } from 'vitest';
import { DISCORD_CORPUS_ABSENT, discordCorpusPresent, readDiscordCorpus } from '../../test/support/discord.ts';
import { parseInteraction, type DiscordRespond } from './parse.ts';
import type { Parsed } from '../../src/core/channel-adapter.ts';

const APP = '1457469483726668048';
const parse = (raw: string): Parsed<DiscordRespond> => parseInteraction({ rawBody: Buffer.from(raw), receivedAt: new Date('2026-01-01T00:00:00Z') }, { applicationId: APP });
const corpus = readDiscordCorpus().filter((f) => f.kind === 'discord_interaction');
const file = (name: string) => corpus.find((f) => f.name === name)!;
const message = (p: Parsed<DiscordRespond>) => {
  if (p.kind !== 'message') throw new Error(`expected a message, got ${p.kind}`);
  return p;
};
const answer = (p: Parsed<DiscordRespond>) => {
  if (p.kind !== 'protocol') throw new Error(`expected a protocol answer, got ${p.kind}`);
  return JSON.parse(p.answer.body) as { type: number; data?: any };
};

describe.skipIf(!discordCorpusPresent)(`Discord corpus interactions${discordCorpusPresent ? '' : ` (${DISCORD_CORPUS_ABSENT})`}`, () => {
  it('parses every file without throwing, to a message or an immediate answer', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(15);
    for (const f of corpus) {
      const p = parse(f.raw_body!);
      expect(['message', 'protocol'], f.name).toContain(p.kind);
      if (p.kind === 'message') {
        expect(p.message.channel).toBe('discord');
        expect(p.message.providerMessageId).toBe(f.body.id);
        expect(p.message.sender).toBe(`discord:${(f.body.member?.user ?? f.body.user).id}`);
        expect(p.respond.token).toBe(f.body.token);
      }
    }
  });

  it('PING (real and minimal) → PONG {type:1}', () => {
    expect(answer(parse(file('ping__ssmmiles_real.json').raw_body!))).toEqual({ type: 1 });
    expect(answer(parse(file('ping__discord_interactions_js_minimal.json').raw_body!))).toEqual({ type: 1 });
  });

  it('guild: member.user; DM: top-level user, the DM channel as address', () => {
    const guild = message(parse(file('message_component__vercel_button_guild_thread.json').raw_body!));
    expect(guild.message.sender).toBe('discord:1033044521375764530');
    const dm = message(parse(file('message_component__vercel_button_dm_handedited.json').raw_body!));
    expect(dm.message.sender).toBe('discord:1033044521375764530');
    expect(dm.message.address).toBe('DM_CHANNEL_123');
  });

  it('keeps snowflakes above 2^53 as strings, digit for digit; a thread is its own channel', () => {
    const p = message(parse(file('message_component__vercel_button_guild_thread.json').raw_body!));
    expect(p.message.providerMessageId).toBe('1457536583141163186');
    expect(Number(p.message.providerMessageId).toString()).not.toBe('1457536583141163186'); // what Number() would have lost
    expect(p.message.address).toBe('1457536551830421524'); // the thread's id, not its parent
    expect(p.message.thread).toBeUndefined();
    expect(p.respond.kind).toBe('component');
    expect(p.message.actionId).toBe('hello');
  });

  it('slash commands: options absent, typed options, subcommand groups', () => {
    expect(message(parse(file('application_command__ssmmiles_real_guild.json').raw_body!)).message.text).toBe('test');
    expect(message(parse(file('application_command__docs_slash_with_options.json').raw_body!)).message.text).toBe('cardsearch --cardname "The Gitrog Monster"');
    expect(message(parse(file('application_command__vercel_unit_string_bool_options.json').raw_body!)).message.text).toBe('test --topic status --verbose');
    expect(message(parse(file('application_command__vercel_unit_subcommand_group.json').raw_body!)).message.text).toBe('project issue create --title "Login fails" --priority high');
  });

  it('context-menu commands and payloads without a user are answered at once, ephemerally, and not run', () => {
    for (const name of [
      'application_command__docs_user_context_menu.json',
      'application_command__docs_message_context_menu.json',
      'application_command__discord_interactions_js_minimal.json',
      'message_component__discord_interactions_js_minimal.json',
    ]) {
      const a = answer(parse(file(name).raw_body!));
      expect(a.type, name).toBe(4);
      expect(a.data.flags, name).toBe(64);
    }
  });

  it('autocomplete → type 8 (never deferred), empty choices for an option we do not know', () => {
    expect(answer(parse(file('autocomplete__discord_interactions_js.json').raw_body!))).toEqual({ type: 8, data: { choices: [] } });
  });
});

describe('Discord interactions of our own commands', () => {
  const base = {
    id: '1500000000000000001',
    application_id: APP,
    token: 'tok',
    channel_id: '1400000000000000001',
    guild_id: '1300000000000000001',
    member: { user: { id: '1100000000000000001', username: 'm' }, nick: 'Nick' },
  };

  it('/todo add content:"Write brief" project:Alpha → todo add Write brief --project Alpha', () => {
    const p = message(
      parse(
        JSON.stringify({
          ...base,
          type: 2,
          data: {
            name: 'todo',
            type: 1,
            options: [
              {
                name: 'add',
                type: 1,
                options: [
                  { name: 'content', type: 3, value: 'Write brief' },
                  { name: 'project', type: 3, value: 'Alpha' },
                ],
              },
            ],
          },
        }),
      ),
    );
    expect(p.message.text).toBe('todo add Write brief --project Alpha');
    expect(p.message.senderName).toBe('Nick');
    expect(p.respond).toEqual({ kind: 'command', applicationId: APP, token: 'tok', interactionId: base.id });
  });

  it('a button runs the command in its custom_id (uniqueness suffix dropped, done:<id> form understood)', () => {
    const press = (custom_id: string) => message(parse(JSON.stringify({ ...base, type: 3, message: { id: '1' }, data: { custom_id, component_type: 2 } }))).message.text;
    expect(press('todo done CHITTY-TODO-01ABC')).toBe('todo done CHITTY-TODO-01ABC');
    expect(press('more~2')).toBe('more');
    expect(press('done:CHITTY-TODO-01ABC')).toBe('todo done CHITTY-TODO-01ABC');
  });

  it("a slash command, and a button on its ephemeral answer, are the person's own conversation; a button on a channel post is the channel's", () => {
    const slash = message(parse(JSON.stringify({ ...base, type: 2, data: { name: 'todo', type: 1, options: [{ name: 'list', type: 1 }] } })));
    expect(slash.message.privateAnswer).toBe(true);
    const onEphemeral = message(parse(JSON.stringify({ ...base, type: 3, message: { id: '1', flags: 64 }, data: { custom_id: 'more', component_type: 2 } })));
    expect(onEphemeral.message.privateAnswer).toBe(true);
    const onPost = message(parse(JSON.stringify({ ...base, type: 3, message: { id: '1', flags: 0 }, data: { custom_id: 'more', component_type: 2 } })));
    expect(onPost.message.privateAnswer).toBeUndefined();
  });

  it("autocomplete of a choice option offers the grammar's choices", () => {
    const a = answer(
      parse(JSON.stringify({ ...base, type: 4, data: { name: 'todo', type: 1, options: [{ name: 'list', type: 1, options: [{ name: 'status', type: 3, value: 'p', focused: true }] }] } })),
    );
    expect(a).toEqual({ type: 8, data: { choices: [{ name: 'pending', value: 'pending' }] } });
  });

  it('an interaction from the bot itself is ignored; a body that is not an interaction is a 400', () => {
    expect(parse(JSON.stringify({ ...base, type: 2, member: { user: { id: APP } }, data: { name: 'chitty', options: [{ name: 'text', type: 3, value: 'x' }] } })).kind).toBe('ignore');
    expect(() => parse('not json')).toThrow();
    expect(() => parse('{"hello":1}')).toThrow();
  });
});
