/**
 * Multi-workspace install (SLACK_CLIENT_ID / SLACK_CLIENT_SECRET / SLACK_STATE_SECRET): Bolt's
 * `InstallProvider` (@slack/oauth) behind `GET /slack/install` and `GET /slack/oauth_redirect`,
 * installations kept in the hub database.
 *
 * The state is checked the way Bolt checks it: `/slack/install` signs a state (SLACK_STATE_SECRET,
 * 10 minutes) and sets it in a cookie of the browser that starts the install; the callback takes
 * the code only with the same state in the URL and in that browser's cookie, and deletes the
 * cookie, so a state is good for one install in one browser (OAuth CSRF protection). The callback's
 * work (state check, `oauth.v2.access`, storing) is async, and the contract's only async step
 * before the answer is `verify`, so that is where it runs; `parse` turns its outcome into the page.
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

/** What InstallProvider wrote, as the route's answer (its Set-Cookie included). */
function capturedAnswer(res: CapturedResponse): ProtocolAnswer {
  // InstallProvider sets one cookie: the state (install page) or its deletion (callback).
  const cookie = res.getHeader('set-cookie');
  const setCookie = Array.isArray(cookie) ? cookie.map(String)[0] : typeof cookie === 'string' ? cookie : undefined;
  return { ...html(res.statusCode, res.body || '<!doctype html><p>Done.</p>'), ...(setCookie ? { headers: { 'set-cookie': setCookie } } : {}) };
}

type SlackLogger = NonNullable<ConstructorParameters<typeof InstallProvider>[0]['logger']>;

/**
 * InstallProvider's log lines into ours. Its errors are a refused install (bad or foreign state,
 * denied access), which the failure page already reports at warn: they are warnings here too.
 */
function installerLogger(logger: Logger): SlackLogger {
  const text = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  let level = 'info';
  return {
    debug: (...msg: unknown[]) => logger.debug({ component: 'slack-oauth' }, text(msg)),
    info: (...msg: unknown[]) => logger.info({ component: 'slack-oauth' }, text(msg)),
    warn: (...msg: unknown[]) => logger.warn({ component: 'slack-oauth' }, text(msg)),
    error: (...msg: unknown[]) => logger.warn({ component: 'slack-oauth' }, text(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level as ReturnType<SlackLogger['getLevel']>,
    setName: () => {},
  };
}

/** The install page: an "Add to Slack" link and a meta refresh to it. */
function installPageHtml(url: string): string {
  const u = esc(url);
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${u}"><title>Add ChittyChat to Slack</title></head><body><p><a href="${u}">Add ChittyChat to Slack</a></p></body></html>`;
}

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
      installUrlOptions: this.installOptions,
      renderHtmlForInstallPath: installPageHtml,
      logger: installerLogger(opts.logger),
      clientOptions,
    });
  }

  /** `GET /slack/install`: a page with the "Add to Slack" link, and the state cookie for this browser. */
  async installPage(): Promise<ProtocolAnswer> {
    const res = new CapturedResponse();
    const req = { url: '/slack/install', headers: {} } as unknown as IncomingMessage;
    await this.installer.handleInstallPath(req, res as unknown as ServerResponse, undefined, this.installOptions);
    return capturedAnswer(res);
  }

  /** `GET /slack/oauth_redirect`: state check, `oauth.v2.access`, store; the page to show. */
  async callback(url: string, cookie: string | undefined): Promise<ProtocolAnswer> {
    const res = new CapturedResponse();
    const req = { url, headers: cookie ? { cookie } : {} } as unknown as IncomingMessage;
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
    return capturedAnswer(res);
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
    return [route('/slack/install', () => this.installPage()), route('/slack/oauth_redirect', (req) => this.callback(req.url, req.headers.cookie))];
  }
}
