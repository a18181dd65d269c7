/**
 * Credentials never reach a log line or the start banner: a URL's password (`redis://:secret@…`,
 * `postgres://user:secret@…`) and a `token=` query parameter are replaced by `***`.
 */

const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)[^@/?#\s]+@/gi;
const QUERY_SECRET = /([?&](?:token|access_token|secret|password|key)=)[^&#\s"']*/gi;

/** `text` with URL passwords and `token=` query values replaced by `***`. */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(QUERY_SECRET, '$1***');
}

/** A copy of a log object with every string (to `depth` levels) redacted; Errors keep their type. */
export function redactObject(value: unknown, depth = 3): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (depth <= 0 || value === null || typeof value !== 'object' || value instanceof Error || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value)) return value.map((v) => redactObject(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactObject(v, depth - 1);
  return out;
}
