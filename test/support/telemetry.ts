/**
 * For the metrics and tracing tests: a test gateway with the SMS channel on (a loopback Twilio
 * fake), so a chat webhook runs through the route runner, and a webhook subscriber every todo
 * change fans out to.
 */
import { FakeTwilio, messageSidFor, signTwilio } from '../fakes/twilio.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';
import { startWebhookReceiver, trustSecret, type WebhookReceiver } from './webhook-receiver.ts';

const ACCOUNT = `AC${'a'.repeat(32)}`;
const TWILIO_TOKEN = 'test-twilio-auth-token';
const FROM = '+15550009999';
const PUBLIC_URL = 'https://chitty.example.test';
/** The allow-listed phone number that texts commands. */
export const MEMBER = '+15550001111';

export interface TelemetryRig {
  gw: TestGateway;
  receiver: WebhookReceiver;
  /** Text `body` to the gateway as Twilio would post it; resolves with the webhook's HTTP status. */
  sms(body: string): Promise<number>;
  close(): Promise<void>;
}

export async function startTelemetryRig(env: Record<string, string> = {}): Promise<TelemetryRig> {
  const twilio = new FakeTwilio({ accountSid: ACCOUNT, authToken: TWILIO_TOKEN });
  await twilio.start();
  const gw = await startTestGateway(
    'pglite',
    {
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TWILIO_TOKEN,
      TWILIO_FROM: FROM,
      TWILIO_API_URL: twilio.url,
      PUBLIC_URL,
      CHITTY_ALLOWLIST: `sms:${MEMBER}`,
      CHITTY_DIGEST_WINDOW_MS: '20',
      ...env,
    },
    { pipeline: { relayPollMs: 50 } },
  );
  twilio.gatewayUrl = gw.url;
  const receiver = await startWebhookReceiver({ secret: 'test-webhook-secret' });
  const sub = await gw.call('POST', '/api/v1/subscriptions', { channel: 'webhook', address: receiver.url, domains: ['todos'] });
  if (sub.status !== 201 && sub.status !== 200) throw new Error(`subscribe failed: ${sub.status} ${sub.text}`);
  trustSecret(receiver.url, sub.json.secret);
  let n = 0;
  return {
    gw,
    receiver,
    async sms(body) {
      const sid = messageSidFor(`telemetry-${Date.now()}-${++n}`);
      const params = { MessageSid: sid, SmsSid: sid, AccountSid: ACCOUNT, From: MEMBER, To: FROM, Body: body, NumMedia: '0', ApiVersion: '2010-04-01' };
      const signed = signTwilio(TWILIO_TOKEN, `${PUBLIC_URL}/twilio/sms`, params);
      const res = await fetch(`${gw.url}/twilio/sms`, { method: 'POST', headers: signed.headers, body: signed.body });
      await res.text();
      return res.status;
    },
    async close() {
      await gw.close();
      await receiver.close();
      await twilio.stop();
    },
  };
}
