/** Every Slack corpus file through `parseSlackRequest`: what it becomes, and the traps it holds. */
import { describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../src/core/channel-adapter.ts';
import { contentTypeOf, readSlackCorpus, SLACK_CORPUS_ABSENT, slackCorpusPresent } from '../../test/support/slack.ts';
import { commandText, parseSlackRequest } from './parse.ts';

const files = readSlackCorpus();
const req = (raw: string, type: string, headers: Record<string, string> = {}): InboundRequest => ({
  method: 'POST',
  url: '/slack/events',
  publicUrl: 'https://gw.example/slack/events',
  headers: { 'content-type': type, ...headers },
  rawBody: Buffer.from(raw, 'utf8'),
  receivedAt: new Date('2026-01-01T00:00:00Z'),
});
const opts = { botUserId: () => undefined };
const parseFile = (name: string) => {
  const f = files.find((x) => x.name === name)!;
  return parseSlackRequest(req(f.raw_body, contentTypeOf(f), f.headers ?? {}), opts);
};

describe.skipIf(!slackCorpusPresent())(`parseSlackRequest over ../shared/corpus/slack${slackCorpusPresent() ? '' : ` — ${SLACK_CORPUS_ABSENT}`}`, () => {
  it('reads every file (signature vectors included) without throwing', () => {
    expect(files.length).toBeGreaterThan(20);
    for (const f of files) {
      const p = parseSlackRequest(req(f.raw_body, contentTypeOf(f)), opts);
      expect(['message', 'ignore', 'protocol'], f.name).toContain(p.kind);
      if (p.kind === 'message') {
        expect(p.message.sender, f.name).toMatch(/^slack:[A-Z0-9]+:[A-Z0-9]+$/);
        expect(p.message.providerMessageId.length, f.name).toBeGreaterThan(0);
      }
    }
  });

  it('one @-mention, two events: message and app_mention get the same id <channel>:<ts>', () => {
    const a = parseFile('event_callback__app_mention_raw_vercel.json');
    const m = parseFile('event_callback__message_with_mention_raw_vercel.json');
    expect(a.kind).toBe('message');
    expect(m.kind).toBe('message');
    if (a.kind !== 'message' || m.kind !== 'message') return;
    expect(a.message.providerMessageId).toBe('C00FAKECHAN1:1766458026.240809');
    expect(m.message.providerMessageId).toBe(a.message.providerMessageId);
    expect(a.message.text).toBe('1'); // <@U00FAKEBOT01> stripped (bot user from authorizations)
    expect(a.respond).toMatchObject({ kind: 'event', channel: 'C00FAKECHAN1' });
  });

  it("the bot's own post is own_echo; an edit is edit; channel chatter without a mention is not ours", () => {
    expect(parseFile('event_callback__message_from_bot_itself_raw_vercel.json')).toMatchObject({ kind: 'ignore', reason: 'own_echo' });
    expect(parseFile('event_callback__message_changed_raw_vercel.json')).toMatchObject({ kind: 'ignore', reason: 'edit' });
    expect(parseFile('event_callback__message_thread_reply_raw_vercel.json')).toMatchObject({ kind: 'ignore', reason: 'unsupported' });
  });

  it('a DM runs as a command; a retry keeps its id', () => {
    const dm = parseFile('event_callback__message_im_vercel.json');
    expect(dm).toMatchObject({ kind: 'message', message: { address: 'D0ACX51K95H', text: 'hello hello', sender: 'slack:T0ADGE2G4EM:U0ADXQT6CRW' } });
    const retry = parseFile('event_callback__retry_headers_vercel_unit.json');
    expect(retry).toMatchObject({ kind: 'message', message: { providerMessageId: 'C123:1710000000.000002', thread: '1710000000.000001' } });
  });

  it('a click on an ephemeral message (no message key) uses the container; a button without a value is ignored', () => {
    const eph = parseFile('block_actions__boltpy_enterprise_ephemeral.json');
    expect(eph).toMatchObject({ kind: 'message', message: { text: 'click_me_123', actionId: 'a', sender: 'slack:T111:W111' }, respond: { kind: 'action' } });
    const madetech = parseFile('block_actions__madetech_raw.json');
    expect(madetech).toMatchObject({ kind: 'message', respond: { kind: 'action' } });
    if (madetech.kind === 'message' && madetech.respond.kind === 'action') expect(madetech.respond.responseUrl).toMatch(/^https:\/\/hooks\.slack\.com\//); // \/ unescaped by JSON.parse
    expect(parseFile('block_actions__vercel_button_ephemeral.json')).toMatchObject({ kind: 'ignore' });
    expect(parseFile('block_actions__vercel_static_select.json')).toMatchObject({ kind: 'message', message: { text: 'greet', thread: '1767326125.870439' } });
  });

  it('url_verification answers its challenge; ssl_check an empty 200 even with a smuggled payload; view_submission is ignored', () => {
    expect(parseFile('url_verification__boltpy_docs_challenge.json')).toEqual({
      kind: 'protocol',
      answer: { status: 200, contentType: 'application/json', body: JSON.stringify({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' }) },
    });
    expect(parseFile('ssl_check__boltjs.json')).toMatchObject({ kind: 'protocol', answer: { status: 200, body: '' } });
    expect(parseSlackRequest(req('ssl_check=1&payload=%7B%22type%22%3A%22event_callback%22%7D', 'application/x-www-form-urlencoded'), opts)).toMatchObject({ kind: 'protocol', answer: { body: '' } });
    expect(parseFile('view_submission__vercel.json')).toMatchObject({ kind: 'ignore' });
  });

  it('slash commands not ours get an ephemeral pointer to /chitty (Org+Name and %20 decoded without error)', () => {
    for (const name of files.filter((f) => f.kind === 'slash_command').map((f) => f.name)) {
      const p = parseFile(name);
      expect(p.kind, name).toBe('protocol');
      if (p.kind === 'protocol') expect(JSON.parse(p.answer.body).response_type).toBe('ephemeral');
    }
  });
});

describe('slash commands', () => {
  const form = (command: string, text: string) =>
    req(
      new URLSearchParams({ team_id: 'T1', user_id: 'U1', channel_id: 'C1', command, text, response_url: 'https://hooks.slack.com/commands/x', trigger_id: 'tr.1' }).toString().replaceAll('%20', '+'),
      'application/x-www-form-urlencoded',
    );
  it('/todo add x runs "todo add x"; /chitty todo list runs "todo list"; bare /chitty asks for help', () => {
    expect(parseSlackRequest(form('/todo', 'add Write brief --project Alpha'), opts)).toMatchObject({
      kind: 'message',
      message: { text: 'todo add Write brief --project Alpha', address: 'C1', sender: 'slack:T1:U1', providerMessageId: 'command:tr.1' },
      respond: { kind: 'command', responseUrl: 'https://hooks.slack.com/commands/x' },
    });
    expect(parseSlackRequest(form('/chitty', 'todo list'), opts)).toMatchObject({ kind: 'message', message: { text: 'todo list' } });
    expect(parseSlackRequest(form('/chitty', ''), opts)).toMatchObject({ kind: 'message', message: { text: 'help' } });
    for (const c of ['sync', 'project', 'topic', 'session', 'subscribe']) expect(parseSlackRequest(form(`/${c}`, 'list'), opts)).toMatchObject({ message: { text: `${c} list` } });
  });
  it('multi-workspace addresses carry the team', () => {
    expect(parseSlackRequest(form('/todo', 'list'), { ...opts, teamInAddress: true })).toMatchObject({ message: { address: 'T1:C1' } });
  });
  it('bodies that are neither form nor JSON are a 400 (throw)', () => {
    expect(() => parseSlackRequest(req('not json', 'application/json'), opts)).toThrow(/Slack request/);
    expect(() => parseSlackRequest(req('payload=%7Bnope', 'application/x-www-form-urlencoded'), opts)).toThrow(/Slack request/);
  });
  it('commandText strips our leading mention only, and unescapes Slack entities', () => {
    expect(commandText('<@UBOT> todo add a &lt;b&gt;', 'UBOT')).toBe('todo add a <b>');
    expect(commandText('<@UOTHER> hi', 'UBOT')).toBe('<@UOTHER> hi');
    expect(commandText('<@UBOT>', 'UBOT')).toBe('help');
  });
});
