/**
 * The few hub names the CLI needs, copied so that an HTTP-only CLI call loads no server code
 * (src/cli/constants.test.ts fails if they drift from the hub's own lists).
 */
export const DOMAINS = ['topics', 'projects', 'sessions', 'todos', 'contexts', 'repos', 'services'] as const;
export const TODO_STATUSES = ['pending', 'in_progress', 'blocked', 'completed'] as const;
export const PRIORITIES = ['low', 'medium', 'high', 'critical'] as const;
export const DELIVERY_STATUSES = ['queued', 'sent', 'failed', 'dead'] as const;
/** The token file in DATA_DIR that `npm start` writes. */
export const TOKEN_FILE = 'api-token';
export const CHITTY_ID_REGEX = /^CHITTY-[A-Z]+-[A-Za-z0-9_-]{1,100}$/;
/** Channels a subscription can deliver to (`chitty sync --channel`). */
export const DESTINATION_CHANNELS = ['slack', 'discord', 'sms', 'whatsapp', 'email', 'webhook'] as const;
/** ChittyID prefix → API domain, for reading an entity a reply names. */
export const ID_DOMAINS: Readonly<Record<string, (typeof DOMAINS)[number]>> = {
  TOPIC: 'topics',
  PROJ: 'projects',
  SESSION: 'sessions',
  TODO: 'todos',
  CONTEXT: 'contexts',
  REPO: 'repos',
  SERVICE: 'services',
};

/** The API domain of a ChittyID (`CHITTY-TODO-…` → todos), if it names one. */
export function domainOfId(id: string): (typeof DOMAINS)[number] | undefined {
  const prefix = /^CHITTY-([A-Z]+)-/.exec(id)?.[1];
  return prefix ? ID_DOMAINS[prefix] : undefined;
}
