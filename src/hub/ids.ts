import { monotonicFactory } from 'ulidx';
import { domainSpec, type Domain } from './domains.ts';

const ulid = monotonicFactory();

/** `CHITTY-<KIND>-<ULID>`: unique, and sorts by creation time. */
export function chittyId(kind: string): string {
  return `CHITTY-${kind}-${ulid()}`;
}

export const entityId = (domain: Domain): string => chittyId(domainSpec(domain).idPrefix);
export const messageId = (): string => chittyId('MSG');
export const stateId = (): string => chittyId('STATE');
export const conflictId = (): string => chittyId('CONFLICT');

/** Accepts any ChittyID-shaped string (upper-case kind, then an id of safe characters). */
export const CHITTY_ID_REGEX = /^CHITTY-[A-Z]+-[A-Za-z0-9_-]{1,100}$/;
