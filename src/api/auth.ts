/**
 * Bearer-token auth for the API and the WebSocket. One token (`CHITTY_API_TOKEN`); when it is
 * unset outside production a random one is generated once and kept in DATA_DIR/api-token.
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../hub/hub.ts';

export const TOKEN_FILE = 'api-token';

export interface ResolvedToken {
  token: string;
  /** Where it came from: the environment, a file written earlier, or freshly generated. */
  source: 'env' | 'file' | 'generated' | 'memory';
  file?: string;
}

/** The API token: from config, else DATA_DIR/api-token, else a new one written there (mode 0600). */
export function resolveApiToken(configured: string | undefined, dataDir: string): Promise<ResolvedToken> {
  return resolveSecret(configured, dataDir, TOKEN_FILE);
}

/** A secret from config, else from DATA_DIR/<file>, else generated and written there (mode 0600). */
export async function resolveSecret(configured: string | undefined, dataDir: string, fileName: string): Promise<ResolvedToken> {
  if (configured) return { token: configured, source: 'env' };
  if (dataDir === 'memory://') return { token: randomBytes(24).toString('base64url'), source: 'memory' };
  const file = path.join(dataDir, fileName);
  try {
    const token = (await readFile(file, 'utf8')).trim();
    if (token.length >= 16) return { token, source: 'file', file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const token = randomBytes(24).toString('base64url');
  await mkdir(dataDir, { recursive: true });
  // No trailing newline: a verifier that reads the file as-is gets exactly the secret (reading trims either way).
  await writeFile(file, token, { mode: 0o600 });
  return { token, source: 'generated', file };
}

/** Constant-time comparison (hashing first so lengths never leak). */
export function tokenMatches(presented: string | undefined, expected: string): boolean {
  if (!presented) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Paths that take the token as `?token=`: the WebSocket (browsers cannot set headers on one) and
 * the queue dashboard's sign-in link (it turns it into a cookie). Everywhere else only the header.
 */
export function queryTokenAllowed(url: string): boolean {
  const p = url.split('?')[0] ?? '';
  return p === '/ws' || p === '/admin/queues' || p.startsWith('/admin/queues/');
}

/** `Authorization: Bearer <token>`, or `?token=` where {@link queryTokenAllowed} says so. */
export function presentedToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
    return m?.[1];
  }
  if (!queryTokenAllowed(req.url)) return undefined;
  const q = (req.query as Record<string, unknown> | undefined)?.token;
  return typeof q === 'string' ? q : undefined;
}

/** Who is acting, for SyncMessage.source: the caller may name its platform with X-Chitty-Platform. */
export function actorOf(req: FastifyRequest): Actor {
  const p = req.headers['x-chitty-platform'];
  const platform = typeof p === 'string' && /^[a-z0-9_.-]{1,50}$/i.test(p) ? p.toLowerCase() : 'api';
  return { platform };
}
