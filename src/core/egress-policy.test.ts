import { describe, expect, it } from 'vitest';
import { egressLookup, WebhookSender } from '../../bots/webhook/send.ts';
import { startWebhookReceiver } from '../../test/support/webhook-receiver.ts';
import { checkWebhookUrl, EgressRefusedError, nonPublicKind, type EgressPolicy } from './egress-policy.ts';

const CLOSED: EgressPolicy = { allowPrivate: false, allowHosts: [] };

describe('egress policy', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'this-network'],
    ['169.254.169.254', 'link-local (cloud metadata)'],
    ['10.1.2.3', 'private'],
    ['172.20.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local (cloud metadata)'],
    ['fd00::1', 'private (unique local)'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'shared (CGNAT)'],
  ])('%s is %s', (ip, kind) => {
    expect(nonPublicKind(ip)).toBe(kind);
  });

  it('public addresses pass', () => {
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700::1111']) expect(nonPublicKind(ip)).toBeUndefined();
  });

  it.each([
    'http://127.0.0.1/x',
    'http://[::1]/',
    'http://0.0.0.0:8080/',
    'http://169.254.169.254/latest/meta-data',
    'http://10.0.0.1/',
    'http://localhost:3000/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://[::ffff:127.0.0.1]/',
  ])('refuses %s when private networks are not allowed', (url) => {
    expect(() => checkWebhookUrl(url, CLOSED)).toThrow(EgressRefusedError);
    expect(checkWebhookUrl(url, { allowPrivate: true, allowHosts: [] })).toBeInstanceOf(URL);
  });

  it('a host in the allow list passes; file:, gopher: and not-a-URL never do', () => {
    expect(checkWebhookUrl('http://127.0.0.1:9/x', { allowPrivate: false, allowHosts: ['127.0.0.1'] }).port).toBe('9');
    for (const bad of ['file:///etc/passwd', 'gopher://127.0.0.1:6379/_INFO', 'not a url']) expect(() => checkWebhookUrl(bad, { allowPrivate: true, allowHosts: [] })).toThrow(/only http|not a URL/);
  });

  it('checks the address a name resolves to (connect time), not the name', async () => {
    const err = await new Promise<Error | null>((resolve) => egressLookup(CLOSED)('localhost', {}, (e: Error | null) => resolve(e)));
    expect(err).toBeInstanceOf(EgressRefusedError);
    expect(err?.message).toMatch(/resolves to (127\.0\.0\.1|::1)/);
  });

  it('a refused send reads nothing from the receiver and is a permanent error', async () => {
    const r = await startWebhookReceiver({ secret: 's', script: () => ({ status: 500, body: 'internal secret answer' }) });
    try {
      const sender = new WebhookSender({ secret: 's', egress: CLOSED });
      const err = await sender.send(r.url, { a: 1 }, 'd1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(EgressRefusedError);
      expect((err as Error).message).not.toMatch(/internal secret/);
      expect(r.count()).toBe(0);
      await sender.close();
    } finally {
      await r.close();
    }
  });
});
