/**
 * The Slack channel: slash commands, Events API and interactivity on one URL (`POST /slack/events`),
 * fan-out with `chat.postMessage`, optional multi-workspace install (`/slack/install`,
 * `/slack/oauth_redirect`).
 *
 * How Bolt is used, and why not `App` + a receiver: the gateway's route runner already does what
 * every channel must do the same way — verify, parse, record in the inbound log, then acknowledge,
 * inline when the core answers in time, else an empty 200 and the answer afterwards. A Bolt `App`
 * acknowledges from inside its listeners (`ack()`), dispatches through its own middleware and
 * authorize step (which, in multi-workspace mode, reads the installation store before any listener
 * runs), and retries nothing we can see; fitting "recorded before ack" and "ack never waits on an
 * API call" into it would mean re-implementing the runner inside listeners for Slack only. So the
 * route is our `WebhookRoute` and Bolt's packages do the Slack parts: `@slack/web-api`'s WebClient
 * (Bolt's client, retries off so the pipeline owns them), `@slack/oauth`'s InstallProvider (Bolt's
 * installer) and its InstallationStore interface on our database. Signatures are checked with
 * node:crypto over the raw bytes (verify.ts says why not Bolt's `verifySlackRequest`; the tests
 * check the two agree on every vector). The benchmark compares this route against a bare Bolt
 * `HTTPReceiver` app.
 */
import type { Installation } from '@slack/oauth';
import { CAPABILITIES } from '../../renderers/index.ts';
import { renderSlack, type SlackPayload } from '../../renderers/slack.ts';
import type { SlackConfig } from '../../src/channel-config.ts';
import { type ChannelAdapter, type ChannelStatus, type ProtocolAnswer, type WebhookRoute, runningStatus } from '../../src/core/channel-adapter.ts';
import { ConfigError } from '../../src/core/chitty-error.ts';
import { classifyHttpFailure, NetworkError } from '../../src/core/channel-errors.ts';
import type { CoreResult } from '../../src/core/conversation-core.ts';
import type { Logger } from '../../src/log.ts';
import type { ChannelDeps } from '../index.ts';
import { DbInstallationStore } from './installations.ts';
import { SlackOAuth } from './oauth.ts';
import { parseSlackRequest, type SlackRespond } from './parse.ts';
import { mapSlackError, SlackClients, SlackPoster, SlackSender, type SlackTokenSource } from './send.ts';
import { verifySlackRequest } from './verify.ts';

export { parseSlackRequest, type SlackRespond } from './parse.ts';
export { SlackSender } from './send.ts';
export { slackSignature, slackSignedHeaders, verifySlackSignature } from './verify.ts';

/** Slack waits 3 s for an acknowledgement; an answer that takes longer than this goes to response_url. */
export const SLACK_INLINE_WITHIN_MS = 2_000;
/** How long a POST to a response_url may take. */
export const SLACK_RESPONSE_URL_TIMEOUT_MS = 10_000;

const empty200: ProtocolAnswer = { status: 200, contentType: 'text/plain', body: '' };

function render(result: CoreResult): SlackPayload {
  return renderSlack(result.reply, { page: result.page });
}

/** POST a message to a `response_url` (a plain fetch to the URL Slack gave). */
export async function postResponseUrl(url: string, body: Record<string, unknown>): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(SLACK_RESPONSE_URL_TIMEOUT_MS) });
  } catch (err) {
    throw new NetworkError(`slack: response_url POST failed: ${(err as Error).message}`, 'slack', { cause: err, method: 'POST', url });
  }
  const text = await res.text();
  if (!res.ok) throw classifyHttpFailure('slack', { status: res.status, headers: res.headers, method: 'POST', url, bodyText: text });
}

export interface SlackChannelOptions {
  config: SlackConfig;
  publicUrl: string | undefined;
  logger: Logger;
  deps: Pick<ChannelDeps, 'database' | 'threads'>;
  /** Clock for signature windows (tests). */
  now?: () => number;
}

export class SlackChannel implements ChannelAdapter {
  readonly channel = 'slack' as const;
  readonly capabilities = CAPABILITIES.slack;
  readonly routes: WebhookRoute<any>[];
  readonly sender: SlackSender;
  private readonly poster: SlackPoster;
  private readonly clients: SlackClients;
  private readonly store: DbInstallationStore | undefined;
  private readonly oauth: SlackOAuth | undefined;
  /** Our bot's user id and bot id per team (own-echo detection). */
  private readonly botUsers = new Map<string, string>();
  private readonly botIds = new Map<string, string>();
  private singleTeam: string | undefined;

  constructor(private readonly opts: SlackChannelOptions) {
    const { config, logger } = opts;
    this.clients = new SlackClients(config.apiUrl);
    this.store = config.oauth ? new DbInstallationStore(opts.deps.database.db) : undefined;
    this.poster = new SlackPoster(this.clients, this.tokenFor);
    this.sender = new SlackSender(this.poster, opts.deps.threads);
    if (config.oauth && this.store) {
      this.oauth = new SlackOAuth({
        ...config.oauth,
        apiUrl: config.apiUrl,
        publicUrl: opts.publicUrl,
        store: this.store,
        logger,
        onInstalled: (i: Installation) => {
          if (i.team?.id && i.bot?.userId) this.botUsers.set(i.team.id, i.bot.userId);
          if (i.team?.id && i.bot?.id) this.botIds.set(i.team.id, i.bot.id);
        },
      });
    }
    this.routes = [this.eventsRoute(), ...(this.oauth?.routes() ?? [])];
  }

  /** The bot token for a team: the installation's in multi-workspace mode, else SLACK_BOT_TOKEN. */
  private readonly tokenFor: SlackTokenSource = async (teamId) => {
    if (teamId && this.oauth && teamId !== this.singleTeam) {
      const auth = await this.oauth.installer.authorize({ teamId, isEnterpriseInstall: false, enterpriseId: undefined }).catch((err: unknown) => {
        throw new ConfigError(`Slack team ${teamId} has no installation: ${(err as Error).message}`);
      });
      if (auth.botToken) return auth.botToken;
    }
    if (this.opts.config.botToken) return this.opts.config.botToken;
    throw new ConfigError(`No Slack bot token for team ${teamId ?? '(unknown)'}: install the app in it through /slack/install`);
  };

  private eventsRoute(): WebhookRoute<SlackRespond> {
    const { config, logger } = this.opts;
    const teamInAddress = config.oauth !== undefined;
    return {
      method: 'POST',
      url: '/slack/events',
      ackWithinMs: SLACK_INLINE_WITHIN_MS,
      verify: (req) => verifySlackRequest(req, { signingSecret: config.signingSecret, ...(this.opts.now ? { now: this.opts.now } : {}) }),
      parse: (req) =>
        parseSlackRequest(req, {
          botUserId: (team) => this.botUsers.get(team),
          botId: (team) => this.botIds.get(team),
          teamInAddress,
        }),
      // Slash commands: the answer in the HTTP response, visible only to the person who typed it.
      inline: (result, respond) => (respond.kind === 'command' ? { status: 200, contentType: 'application/json', body: JSON.stringify({ response_type: 'ephemeral', ...render(result) }) } : empty200),
      deferred: () => empty200,
      // Events and buttons are answered by API, never inside the acknowledgement.
      alwaysLate: (respond) => respond.kind !== 'command',
      late: async (result, respond) => {
        const payload = render(result);
        switch (respond.kind) {
          case 'command':
            if (!respond.responseUrl) return void logger.warn('Slack slash command had no response_url; its late answer is dropped');
            return postResponseUrl(respond.responseUrl, { response_type: 'ephemeral', replace_original: false, ...payload });
          case 'event':
            await this.poster.post(teamInAddress ? respond.teamId : undefined, respond.channel, respond.threadTs, payload);
            return;
          case 'action':
            if (respond.responseUrl) return postResponseUrl(respond.responseUrl, { replace_original: true, ...payload });
            if (respond.channel && respond.messageTs) return this.poster.update(teamInAddress ? respond.teamId : undefined, respond.channel, respond.messageTs, payload);
            logger.warn('Slack button press had neither response_url nor a message to update; its answer is dropped');
        }
      },
    };
  }

  /** Learns our bot user id (`auth.test`) for own-echo detection; installed teams from the database. */
  async start(): Promise<void> {
    const { config, logger } = this.opts;
    if (config.botToken) {
      try {
        const r = await this.clients.get(config.botToken).auth.test();
        if (r.team_id && r.user_id) this.botUsers.set(r.team_id, r.user_id);
        if (r.team_id && r.bot_id) this.botIds.set(r.team_id, r.bot_id);
        this.singleTeam = r.team_id;
        logger.info({ team: r.team_id, botUser: r.user_id }, 'Slack: bot token works');
      } catch (err) {
        const e = mapSlackError(err, 'auth.test');
        logger.error({ err: e.message }, 'Slack: auth.test failed at start; commands still run, own-echo detection falls back to bot_id and authorizations until it works');
      }
    }
    if (this.store) for (const [team, user] of await this.store.botUsers()) this.botUsers.set(team, user);
  }

  status(): ChannelStatus {
    const { config } = this.opts;
    return runningStatus(this, {
      mode: config.oauth ? 'multi-workspace' : 'single-workspace',
      ...(this.singleTeam ? { team: this.singleTeam, botUser: this.botUsers.get(this.singleTeam) } : {}),
    });
  }
}

/** Registry factory: on when `SLACK_*` is set (src/channel-config.ts). */
export function createSlackChannel(deps: ChannelDeps): SlackChannel | undefined {
  const config = deps.config.slack;
  if (!config) return undefined;
  return new SlackChannel({ config, publicUrl: deps.config.publicUrl, logger: deps.logger, deps });
}
