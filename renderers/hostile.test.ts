import { describe, expect, it } from 'vitest';
import { renderAll, renderEmail, SMS_MORE } from './index.ts';
import { hostile, LONG_WORD } from './test-replies.ts';

// Action ids are opaque identifiers chosen by command handlers (never shown), so they are left
// out of the "no raw syntax" checks; everything a person can see is checked.
const shown = (payload: unknown): string => JSON.stringify(payload, (key, value: unknown) => (key === 'action_id' || key === 'custom_id' ? '[id]' : value));

const out = renderAll(hostile, { threadKey: 'x', inReplyTo: '<a@b>\r\nBcc: victim@example.com', references: ['<r1@b>\r\nX-Evil: 1'] });

describe('hostile text', () => {
  it('Slack: no raw mention or link syntax anywhere, formatting neutralised', () => {
    const json = shown(out.slack);
    for (const raw of ['<!channel>', '<!here>', '<@U123>', '<!subteam', '<script>', '<#C123>']) expect(json).not.toContain(raw);
    expect(json).toContain('&lt;!channel&gt;');
    const mrkdwn = out.slack.blocks.flatMap((b) => (b.type === 'section' && b.text ? [b.text.text] : []));
    expect(mrkdwn.join('\n')).not.toMatch(/\*bold\*|_it_|~strike~|`code`/);
    expect(mrkdwn.join('\n')).toContain('∗bold∗');
  });

  it('Discord: allowed_mentions.parse is [], no raw @everyone/@here or <@…> mention', () => {
    expect(out.discord.allowed_mentions).toEqual({ parse: [] });
    const json = shown(out.discord);
    expect(json).not.toMatch(/@everyone|@here/);
    expect(json).not.toMatch(/<@!?&?\w+>|<#\w+>/);
    expect(out.discord.embeds[0]?.description).toContain('\\*bold\\*');
    expect(out.discord.embeds[0]?.description).toContain('\\[phish\\]');
  });

  it('WhatsApp: user *_~` cannot change markup', () => {
    expect(out.whatsapp).not.toMatch(/\*bold\*|_it_|~strike~|`code`/);
    expect(out.whatsapp).toContain('∗bold∗ ˍitˍ ∼strike∼ ˋcodeˋ');
    expect(out.whatsapp.startsWith('*Hi ')).toBe(true);
  });

  it('email: html has no <script>, subject and headers have no CR/LF', () => {
    expect(out.email.html).not.toContain('<script>');
    expect(out.email.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(out.email.subject).not.toMatch(/[\r\n]/);
    for (const value of Object.values(out.email.headers)) expect(value).not.toMatch(/[\r\n]/);
    expect(out.email.headers['In-Reply-To']).toBe('<a@b>');
    expect(out.email.headers.References).not.toContain('X-Evil: ');
  });

  it('email: attribute and text escaping covers & < > " \'', () => {
    const { html } = renderEmail({ kind: 'ok', title: `Tom & "Jerry" <b>'s</b>` }, {}, { messageId: 'm@x' });
    expect(html).toContain('Tom &amp; &quot;Jerry&quot; &lt;b&gt;&#39;s&lt;/b&gt;');
  });

  it('SMS: the 5000-character word is hard-broken into single segments and nothing is lost', () => {
    const joined = out.sms.map((b) => b.replace(/\n\(\d+\/\d+\)( reply MORE)?$/, '')).join('');
    expect(joined).toContain(LONG_WORD);
    expect(out.sms.at(-1)).toMatch(new RegExp(`\\(${out.sms.length}/${out.sms.length}\\)$`));
    expect(out.sms[0]).toContain(`reply ${SMS_MORE}`);
  });

  it('every channel cut or paged the 5000-character word instead of failing', () => {
    expect(out.slack.blocks.length).toBeLessThanOrEqual(50);
    expect(out.whatsapp.length).toBeLessThanOrEqual(4096);
    expect(out.discord.embeds.every((e) => (e.description?.length ?? 0) <= 4096)).toBe(true);
  });
});
