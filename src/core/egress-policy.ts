/**
 * Egress policy for webhook destinations (SSRF): only http(s), and no private, loopback,
 * link-local (cloud metadata) or otherwise non-public address unless the operator allows private
 * networks (`CHITTY_WEBHOOK_ALLOW_PRIVATE=true`) or names the host (`CHITTY_WEBHOOK_ALLOW_HOSTS`).
 * Checked at subscribe time (the URL as written) and at connect time (every address the name
 * resolves to: the connection goes to the address that was checked, so DNS rebinding gains nothing).
 */
import { BlockList, isIP } from 'node:net';
import { ValidationError } from './channel-errors.ts';

export interface EgressPolicy {
  /** Private, loopback and link-local addresses are allowed (development and test default). */
  allowPrivate: boolean;
  /** Host names (or literal addresses) allowed whatever they resolve to, lower case. */
  allowHosts: readonly string[];
}

/** Everything allowed: tests and development. */
export const OPEN_EGRESS: EgressPolicy = { allowPrivate: true, allowHosts: [] };

/** A destination the egress policy refuses (permanent: a dead letter, never retried). */
export class EgressRefusedError extends ValidationError {
  override name = 'EgressRefusedError';
}

const RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['0.0.0.0', 8, 'ipv4', 'this-network'],
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.0.0.0', 24, 'ipv4', 'reserved'],
  ['192.0.2.0', 24, 'ipv4', 'documentation'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['198.18.0.0', 15, 'ipv4', 'benchmarking'],
  ['198.51.100.0', 24, 'ipv4', 'documentation'],
  ['203.0.113.0', 24, 'ipv4', 'documentation'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['ff00::', 8, 'ipv6', 'multicast'],
  ['2001:db8::', 32, 'ipv6', 'documentation'],
];

const lists = RANGES.map(([net, prefix, type, kind]) => {
  const b = new BlockList();
  b.addSubnet(net, prefix, type);
  return { b, type, kind };
});

/** IPv4 carried in an IPv6 address (`::ffff:a.b.c.d`, `::ffff:7f00:1`, NAT64 `64:ff9b::…`). */
function embeddedV4(ip: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (!m) return undefined;
  if (m[1]) return m[1];
  const hi = Number.parseInt(m[2]!, 16);
  const lo = Number.parseInt(m[3]!, 16);
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}

/** Why an address is not a public unicast address (`loopback`, `private`…), or undefined when it is. */
export function nonPublicKind(address: string): string | undefined {
  const ip = address.replace(/^\[|\]$/g, '').split('%')[0]!;
  const v4 = embeddedV4(ip);
  if (v4) return nonPublicKind(v4);
  const family = isIP(ip);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const l of lists) if (l.type === type && l.b.check(ip, type)) return l.kind;
  return undefined;
}

const hostOf = (u: URL): string => u.hostname.replace(/^\[|\]$/g, '').toLowerCase();

/** Whether the policy lets this host name through whatever it resolves to. */
export function hostAllowed(policy: EgressPolicy, host: string): boolean {
  return policy.allowPrivate || policy.allowHosts.includes(host.replace(/^\[|\]$/g, '').toLowerCase());
}

/**
 * Parses a webhook URL and checks what can be checked without DNS: http(s), no credentials, and
 * (unless allowed) no literal non-public address or `localhost`. Throws {@link ValidationError} /
 * {@link EgressRefusedError} with a sentence.
 */
export function checkWebhookUrl(url: string, policy: EgressPolicy): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new ValidationError(`webhook: not a URL: ${JSON.stringify(url.slice(0, 100))}`, 'webhook', { cause });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ValidationError(`webhook: only http: and https: URLs can receive webhooks, got ${u.protocol}`, 'webhook');
  }
  if (u.username !== '' || u.password !== '') {
    throw new ValidationError('webhook: credentials in the URL are not allowed; deliveries are signed instead', 'webhook');
  }
  const host = hostOf(u);
  if (hostAllowed(policy, host)) return u;
  const kind = host === 'localhost' || host.endsWith('.localhost') ? 'loopback' : nonPublicKind(host);
  if (kind) {
    throw new EgressRefusedError(
      `webhook: ${host} is a ${kind} address; webhooks may only reach public addresses (set CHITTY_WEBHOOK_ALLOW_PRIVATE=true or list the host in CHITTY_WEBHOOK_ALLOW_HOSTS to allow it)`,
      'webhook',
    );
  }
  return u;
}

/** The sentence for a name that resolved to a non-public address (connect time). */
export function refusedResolution(host: string, address: string, kind: string): EgressRefusedError {
  return new EgressRefusedError(`webhook: ${host} resolves to ${address}, a ${kind} address; refused by the egress policy (CHITTY_WEBHOOK_ALLOW_PRIVATE / CHITTY_WEBHOOK_ALLOW_HOSTS)`, 'webhook');
}
