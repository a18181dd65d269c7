/** Requests into the gateway signed exactly as Slack signs them, and the Slack corpus as requests. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { slackSignedHeaders } from '../../bots/slack/verify.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The shared corpus, read at run time, never copied into the project. */
export const SLACK_CORPUS_DIR = path.resolve(ROOT, '../shared/corpus/slack');
export const slackCorpusPresent = (): boolean => fs.existsSync(SLACK_CORPUS_DIR);
export const SLACK_CORPUS_ABSENT = `Slack corpus not found at ${SLACK_CORPUS_DIR} (../shared/corpus/slack from the repo root); corpus tests skipped`;

export interface SlackCorpusFile {
  name: string;
  kind: string;
  content_type?: string;
  headers?: Record<string, string>;
  raw_body: string;
  body: any;
  signing_secret?: string;
  negative_cases?: Array<{ description?: string; headers?: Record<string, string>; raw_body?: string; signing_secret?: string; content_type?: string; expected?: string }>;
}

export function readSlackCorpus(): SlackCorpusFile[] {
  if (!slackCorpusPresent()) return [];
  return fs
    .readdirSync(SLACK_CORPUS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f, ...(JSON.parse(fs.readFileSync(path.join(SLACK_CORPUS_DIR, f), 'utf8')) as Omit<SlackCorpusFile, 'name'>) }));
}

export function contentTypeOf(f: Pick<SlackCorpusFile, 'content_type' | 'headers' | 'raw_body'>): string {
  return f.content_type ?? f.headers?.['content-type'] ?? (f.raw_body.trimStart().startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded');
}

/** Headers of a body signed now (or at `nowMs`) with `secret`. */
export function signedSlack(secret: string, body: string, contentType: string, nowMs = Date.now(), extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': contentType, ...slackSignedHeaders(secret, body, nowMs), ...extra };
}

/** A slash command form body as Slack sends it (`+` for spaces). */
export function slashBody(f: { command: string; text: string; teamId: string; userId: string; channelId: string; responseUrl: string; triggerId: string; userName?: string }): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: f.teamId,
    team_domain: 'fake',
    channel_id: f.channelId,
    channel_name: 'general',
    user_id: f.userId,
    user_name: f.userName ?? 'member',
    command: f.command,
    text: f.text,
    api_app_id: 'AFAKEAPP1',
    is_enterprise_install: 'false',
    response_url: f.responseUrl,
    trigger_id: f.triggerId,
  }).toString();
}
