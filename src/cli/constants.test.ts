/** The CLI's copies of hub names (kept so the CLI loads no server code) match the hub's own. */
import { describe, expect, it } from 'vitest';
import { DELIVERY_STATUSES } from '../../queues/delivery-ledger.ts';
import { TOKEN_FILE } from '../api/auth.ts';
import { DESTINATION_CHANNELS } from '../core/subscription-store.ts';
import { DOMAINS, domainOfId, domainSpec, PRIORITIES, TODO_STATUSES } from '../hub/domains.ts';
import { CHITTY_ID_REGEX, chittyId } from '../hub/ids.ts';
import * as cli from './constants.ts';

describe('src/cli/constants.ts', () => {
  it('matches the hub, the delivery ledger, auth and the subscription store', () => {
    expect(cli.DOMAINS).toEqual(DOMAINS);
    expect(cli.TODO_STATUSES).toEqual(TODO_STATUSES);
    expect(cli.PRIORITIES).toEqual(PRIORITIES);
    expect(cli.DELIVERY_STATUSES).toEqual(DELIVERY_STATUSES);
    expect(cli.DESTINATION_CHANNELS).toEqual(DESTINATION_CHANNELS);
    expect(cli.TOKEN_FILE).toBe(TOKEN_FILE);
    expect(cli.CHITTY_ID_REGEX.source).toBe(CHITTY_ID_REGEX.source);
    for (const d of DOMAINS) {
      const id = chittyId(domainSpec(d).idPrefix);
      expect(cli.domainOfId(id), d).toBe(domainOfId(id));
    }
  });
});
