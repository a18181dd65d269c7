/**
 * Multi-workspace install (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET / SLACK_STATE_SECRET): Bolt's
 * `InstallProvider` (@slack/oauth) behind `GET /slack/install` and `GET /slack/oauth_redirect`,
 * installations kept in the hub database.
 *
 * The channel contract's routes answer with a status, a body and a content type — no headers — so
 * the install page links to Slack (an "Add to Slack" button plus a meta refresh) instead of a 302,
 * and the state is checked by the state store alone (`legacyStateVerification`: a signed state
 * that expires in 10 minutes) instead of Bolt's browser cookie, which would need Set-Cookie. The
 * callback's work (state check, `oauth.v2.access`, storing) is async, and the contract's only async
 * step before the answer is `verify`, so that is where it runs; `parse` turns its outcome into
 * the page.
 * {@link https://api.slack.com/authentication/oauth-v2}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Installation, InstallProvider, type InstallURLOptions } from '@slack/oauth';
import type { InboundRequest, ProtocolAnswer, WebhookRoute } from '../../src/core/channel-adapter.ts';
import type { Logger } from '../../src/log.ts';
import type { DbInstallationStore } from './installations.ts';
import { slackClientOptions } from './send.ts';

/** Bot scopes the app asks for (README "Connect your Slack workspace"). */
export const SLACK_BOT_SCOPES = ['commands', 'chat:write', 'app_mentions:read', 'im:history', 'im:read'];

export interface SlackOAuthOptions {
  clientId: string;
  clientSecret: string;
  stateSecret: string;
  apiUrl: string | undefined;
  /** `PUBLIC_URL`, for the redirect URI Slack sends the browser back to. */
  publicUrl: string | undefined;
  store: DbInstallationStore;
  logger: Logger;
  /** Told about each stored installation (bot user id for own-echo detection). */
  onInstalled(installation: Installation): void;
}

/** A node:http response that only records what InstallProvider writes. */
class CapturedResponse {
  statusCode = 200;
  readonly headers = new Map<string, unknown>();
  body = '';
  setHeader(name: string, value: unknown) {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  getHeader(name: string) {
    return this.headers.get(name.toLowerCase());
  }
  writeHead(status: number, headers?: Record<string, string>) {
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers ?? {})) this.setHeader(k, v);
    return this;
  }
  end(chunk?: string) {
    if (chunk) this.body += chunk;
    return this;
  }
}

const html = (status: number, body: string): ProtocolAnswer => ({ status, contentType: 'text/html; charset=utf-8', body });
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Noop = Record<string, never>;

export class SlackOAuth {
  readonly installer: InstallProvider;
  private readonly installOptions: InstallURLOptions;
  private readonly outcomes = new WeakMap<InboundRequest, ProtocolAnswer>();

  constructor(private readonly opts: SlackOAuthOptions) {
    const redirectUri = opts.publicUrl ? `${opts.publicUrl.replace(/\/+$/, '')}/slack/oauth_redirect` : undefined;
    this.installOptions = { scopes: SLACK_BOT_SCOPES, ...(redirectUri ? { redirectUri } : {}) };
    const { retryConfig, rejectRateLimitedCalls, ...clientOptions } = slackClientOptions(opts.apiUrl) ?? {};
    void retryConfig;
    void rejectRateLimitedCalls;
    this.installer = new InstallProvider({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      stateSecret: opts.stateSecret,
      installationStore: opts.store,
      legacyStateVerification: true,
      installUrlOptions: this.installOptions,
      clientOptions,
    });
  }

  /** `GET /slack/install`: a page with the "Add to Slack" link (state signed with SLACK_STATE_SECRET). */
  async installPage(): Promise<ProtocolAnswer> {
    const url = await this.installer.generateInstallUrl(this.installOptions, true);
    const u = esc(url);
    return html(
      200,
      `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${u}"><title>Add ChittyChat to Slack</title></head><body><p><a href="${u}">Add ChittyChat to Slack</a></p></body></html>`,
    );
  }

  /** `GET /slack/oauth_redirect`: state check, `oauth.v2.access`, store; the page to show. */
  async callback(url: string): Promise<ProtocolAnswer> {
    const res = new CapturedResponse();
    const req = { url, headers: {} } as unknown as IncomingMessage;
    let stored: Installation | undefined;
    await this.installer.handleCallback(req, res as unknown as ServerResponse, {
      success: (installation, _o, _req, r) => {
        stored = installation as Installation;
        r.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        r.end(
          `<!doctype html><html><body><p>ChittyChat is installed in ${esc(installation.team?.name ?? installation.enterprise?.name ?? 'your workspace')}. Try <code>/chitty help</code> in Slack.</p></body></html>`,
        );
      },
      failure: (err, _o, _req, r) => {
        this.opts.logger.warn({ err: err.message, code: err.code }, 'Slack install failed');
        r.writeHead(400, { 'Content-Type': 'text/html; charset=utf-8' });
        r.end(`<!doctype html><html><body><p>Slack install failed: ${esc(err.code ?? 'error')}. <a href="/slack/install">Try again</a>.</p></body></html>`);
      },
    });
    if (stored) this.opts.onInstalled(stored);
    return html(res.statusCode, res.body || '<!doctype html><p>Done.</p>');
  }

  /** The two GET routes, in the shape of the channel contract (see the file header). */
  routes(): WebhookRoute<Noop>[] {
    const route = (url: string, run: (req: InboundRequest) => Promise<ProtocolAnswer>): WebhookRoute<Noop> => ({
      method: 'GET',
      url,
      ackWithinMs: 10_000,
      verify: async (req) => {
        try {
          this.outcomes.set(req, await run(req));
        } catch (err) {
          this.opts.logger.error({ err }, 'Slack install page failed');
          this.outcomes.set(req, html(500, '<!doctype html><p>Could not start the Slack install; see the gateway log.</p>'));
        }
        return { ok: true };
      },
      parse: (req) => ({ kind: 'protocol', answer: this.outcomes.get(req) ?? html(500, '<!doctype html><p>No answer.</p>') }),
      inline: () => html(500, ''),
      deferred: () => html(500, ''),
      late: async () => {},
    });
    return [route('/slack/install', () => this.installPage()), route('/slack/oauth_redirect', (req) => this.callback(req.url))];
  }
}
