/**
 * The web page at `/`: a sign-in form (the API token, once; it sets the session cookie) and, once
 * signed in, the page shell whose ES modules (served from src/web/static/ by this file, no build
 * step, nothing from another origin) call /api/v1 with the cookie and follow /ws live.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { tokenMatches } from '../api/auth.ts';
import { tokenFromCookie } from '../api/queue-dashboard.ts';
import { clearedSessionCookie, SESSION_COOKIE, sameOrigin, sessionCookie, sessionValid } from './session.ts';

const STATIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
/** Files the page may load: lower-case names, .js or .css, nothing else from the folder. */
const STATIC_NAME = /^[a-z0-9-]{1,40}\.(js|css)$/;
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
/** Longest sign-in form body accepted (bytes). */
const FORM_LIMIT = 4096;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Headers on every page: no framing, no inline script, nothing from elsewhere, never cached. */
function pageHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'same-origin') // no-referrer would make Chromium send "Origin: null" with the forms
    .header('cache-control', 'no-store');
}

function layout(title: string, body: string, scripts: string[] = []): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/web/static/style.css">
${scripts.map((s) => `<script type="module" src="/web/static/${s}"></script>`).join('\n')}
</head>
<body>
${body}
</body>
</html>
`;
}

/** The sign-in form; `error` is shown above it (a wrong token). */
export function signInPage(error?: string): string {
  return layout(
    'Sign in · ChittyChat',
    `<main class="signin">
<h1>ChittyChat</h1>
<form method="post" action="/web/sign-in" class="card">
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p class="hint">CHITTY_API_TOKEN, or the file DATA_DIR/api-token. It is checked once; the browser then keeps a session cookie, never the token.</p>
<button type="submit">Sign in</button>
</form>
</main>`,
  );
}

const NAV: [string, string][] = [
  ['projects', 'Projects'],
  ['chat', 'Chat'],
  ['conflicts', 'Conflicts'],
  ['deliveries', 'Deliveries'],
  ['subscriptions', 'Subscriptions'],
  ['pairing', 'Pairing'],
];

/** The signed-in shell: navigation, a live-status line and the main region the modules fill. */
export function appPage(): string {
  return layout(
    'ChittyChat',
    `<a class="skip" href="#main">Skip to content</a>
<header>
<strong class="brand">ChittyChat</strong>
<nav aria-label="Pages"><ul>${NAV.map(([id, label]) => `<li><a href="#${id}" data-page="${id}">${label}</a></li>`).join('')}</ul></nav>
<span id="live" class="live" role="status" aria-live="polite">connecting…</span>
<form method="post" action="/web/sign-out"><button type="submit" class="link">Sign out</button></form>
</header>
<main id="main" tabindex="-1"><p>Loading…</p></main>
<noscript><p>The pages need JavaScript (ES modules served by this gateway).</p></noscript>`,
    ['app.js'],
  );
}

function signedIn(req: FastifyRequest, token: string): boolean {
  return sessionValid(tokenFromCookie(req.headers.cookie, SESSION_COOKIE), token);
}

/** Mounts `/`, `POST /web/sign-in`, `POST /web/sign-out` and `/web/static/<file>` (all public: they check for themselves). */
export async function registerWebPage(app: FastifyInstance, opts: { apiToken: string }): Promise<void> {
  const { apiToken } = opts;
  const config = { public: true };

  app.get('/', { config }, async (req, reply) => pageHeaders(reply).send(signedIn(req, apiToken) ? appPage() : signInPage()));

  app.get<{ Params: { file: string } }>('/web/static/:file', { config }, async (req, reply) => {
    const name = req.params.file;
    const m = STATIC_NAME.exec(name);
    if (!m) return reply.status(404).send({ error: { code: 'not_found', message: `No file ${name}.` } });
    let body: Buffer;
    try {
      body = await readFile(path.join(STATIC_DIR, name));
    } catch {
      return reply.status(404).send({ error: { code: 'not_found', message: `No file ${name}.` } });
    }
    return reply.header('content-type', TYPES[m[1]!]!).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache').send(body);
  });

  // The form posts application/x-www-form-urlencoded: parsed here only, not for the API.
  await app.register(async (forms) => {
    forms.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    forms.post('/web/sign-in', { config }, async (req, reply) => {
      if (!sameOrigin(req)) return reply.status(403).send({ error: { code: 'cross_origin', message: "Sign in from this gateway's own page." } });
      const token = (req.body as Record<string, unknown> | undefined)?.token;
      if (typeof token !== 'string' || !tokenMatches(token.trim(), apiToken)) {
        req.log.warn({ ip: req.ip }, 'web sign-in refused: wrong token');
        return pageHeaders(reply.status(401)).send(signInPage('That is not the API token.'));
      }
      return reply.header('set-cookie', sessionCookie(req, apiToken)).header('cache-control', 'no-store').redirect('/', 303);
    });

    forms.post('/web/sign-out', { config }, async (req, reply) => {
      if (!sameOrigin(req)) return reply.status(403).send({ error: { code: 'cross_origin', message: "Sign out from this gateway's own page." } });
      return reply.header('set-cookie', clearedSessionCookie(req)).header('cache-control', 'no-store').redirect('/', 303);
    });
  });
}
