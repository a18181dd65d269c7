/**
 * Independent limit checks for tests: they re-derive every platform limit from the payload
 * (numbers written out, not taken from `limits.ts`) and return what is wrong, so a test can
 * assert `[]` next to the renderer's own validator; and `brokenLimit`, which reads what a
 * validator names when it rejects. Not used by production code.
 */
import { embedLength } from '@discordjs/builders';
import { SegmentedMessage } from 'sms-segments-calculator';
import type { DiscordPayload } from './discord.ts';
import type { EmailPayload } from './email.ts';
import { RenderValidationError } from './errors.ts';
import type { SlackPayload } from './slack.ts';

/** The `limit` a validator's {@link RenderValidationError} names, or undefined when it passes; any other error is rethrown. */
export function brokenLimit(validate: () => void): string | undefined {
  try {
    validate();
    return undefined;
  } catch (e) {
    if (e instanceof RenderValidationError) return e.limit;
    throw e;
  }
}

const over = (what: string, len: number, max: number): string[] => (len > max ? [`${what}: ${len} > ${max}`] : []);
const empty = (what: string, text: string | undefined): string[] => (text !== undefined && text.trim() === '' ? [`${what}: empty`] : []);

export function slackViolations(p: SlackPayload): string[] {
  const v: string[] = [...over('text', p.text.length, 3000), ...over('blocks', p.blocks.length, 50)];
  p.blocks.forEach((b, i) => {
    if (b.type === 'header') v.push(...over(`header ${i}`, b.text.text.length, 150), ...empty(`header ${i}`, b.text.text));
    if (b.type === 'section') {
      if (b.text) v.push(...over(`section ${i}`, b.text.text.length, 3000), ...empty(`section ${i}`, b.text.text));
      if (b.fields) v.push(...over(`fields ${i}`, b.fields.length, 10), ...b.fields.flatMap((f) => [...over(`field ${i}`, f.text.length, 2000), ...empty(`field ${i}`, f.text)]));
      if (!b.text && !b.fields) v.push(`section ${i}: no text`);
    }
    if (b.type === 'context') v.push(...over(`context ${i}`, b.elements.length, 10), ...b.elements.flatMap((e) => over(`context ${i}`, e.text.length, 3000)));
    if (b.type === 'actions') {
      v.push(...over(`actions ${i}`, b.elements.length, 25));
      const ids = b.elements.map((e) => e.action_id);
      if (new Set(ids).size !== ids.length) v.push(`actions ${i}: duplicate action_id`);
      for (const e of b.elements) {
        v.push(...over('button text', e.text.text.length, 75), ...empty('button text', e.text.text));
        v.push(...over('action_id', e.action_id.length, 255), ...empty('action_id', e.action_id), ...over('value', e.value.length, 2000));
      }
    }
  });
  return v;
}

export function discordViolations(p: DiscordPayload): string[] {
  const v: string[] = [...over('content', p.content.length, 2000), ...over('embeds', p.embeds.length, 10), ...over('rows', p.components.length, 5)];
  if (p.allowed_mentions.parse.length !== 0) v.push('allowed_mentions.parse not empty');
  let total = 0;
  for (const e of p.embeds) {
    total += embedLength(e);
    v.push(...over('title', e.title?.length ?? 0, 256), ...over('description', e.description?.length ?? 0, 4096));
    v.push(...over('footer', e.footer?.text.length ?? 0, 2048), ...over('fields', e.fields?.length ?? 0, 25));
    for (const f of e.fields ?? []) v.push(...over('field name', f.name.length, 256), ...over('field value', f.value.length, 1024), ...empty('field name', f.name), ...empty('field value', f.value));
    if (!e.title && !e.description && !e.fields?.length) v.push('empty embed');
  }
  v.push(...over('embed total', total, 6000));
  const ids: string[] = [];
  for (const row of p.components) {
    v.push(...over('buttons in row', row.components.length, 5));
    for (const b of row.components) {
      if ('custom_id' in b) ids.push(b.custom_id);
      if ('label' in b) v.push(...over('label', b.label?.length ?? 0, 80));
    }
  }
  for (const id of ids) v.push(...over('custom_id', id.length, 100), ...empty('custom_id', id));
  if (new Set(ids).size !== ids.length) v.push('duplicate custom_id');
  return v;
}

export function smsViolations(bodies: readonly string[]): string[] {
  if (bodies.length === 0) return ['no bodies'];
  return bodies.flatMap((b, i) => {
    const m = new SegmentedMessage(b);
    return [...(m.segmentsCount === 1 ? [] : [`body ${i + 1}: ${m.segmentsCount} ${m.encodingName} segments`]), ...empty(`body ${i + 1}`, b)];
  });
}

export function whatsAppViolations(text: string): string[] {
  return [...over('whatsapp', text.length, 4096), ...empty('whatsapp', text)];
}

export function emailViolations(e: EmailPayload): string[] {
  const v = [...over('subject', e.subject.length, 200), ...empty('subject', e.subject)];
  for (const [k, value] of Object.entries({ Subject: e.subject, ...e.headers })) if (/[\r\n]/.test(value)) v.push(`${k} has CR/LF`);
  if (!/^<[^\s<>]+@[^\s<>]+>$/.test(e.headers['Message-ID'])) v.push(`bad Message-ID ${e.headers['Message-ID']}`);
  return v;
}
