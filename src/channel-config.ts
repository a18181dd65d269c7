/**
 * Chat channels' configuration, read from the environment by `loadConfig` (the one place that reads
 * it). A channel is on when its variables are set and off otherwise; a channel set up half-way is a
 * start error that says what to add or remove.
 */
import path from 'node:path';
import { ConfigError } from './core/chitty-error.ts';

/** Slack (`bots/slack`): single workspace with a bot token, or multi-workspace through OAuth. */
export interface SlackConfig {
  signingSecret: string;
  /** Single workspace: the bot token (xoxb-…). */
  botToken: string | undefined;
  /** Multi-workspace (Bolt's installer at /slack/install): all three or none. */
  oauth: { clientId: string; clientSecret: string; stateSecret: string } | undefined;
  /** Web API base URL override (tests, proxies), e.g. http://127.0.0.1:4000/api/ */
  apiUrl: string | undefined;
}

/** Discord (`bots/discord`): HTTP interactions, REST sends, optionally the gateway. */
export interface DiscordConfig {
  publicKey: string;
  applicationId: string;
  botToken: string;
  /** Connect to the gateway (messages that mention the bot or use the prefix). */
  gateway: boolean;
  /** Text-command prefix for gateway messages (default `!chitty`). */
  prefix: string;
  /** Register slash commands in this guild (instant) instead of globally. */
  guildId: string | undefined;
  /** REST base URL override (tests), e.g. http://127.0.0.1:4001/api */
  apiUrl: string | undefined;
}

/** SMS (`bots/sms`): Twilio webhooks in, the REST API (Messages resource) out. */
export interface SmsConfig {
  accountSid: string;
  authToken: string;
  /** Sending number (E.164); or */
  from: string | undefined;
  /** a Messaging Service (MG…) that picks the sender. One of the two is set. */
  messagingServiceSid: string | undefined;
  /** REST base URL override (tests), e.g. http://127.0.0.1:4002 */
  apiUrl: string | undefined;
}

/** WhatsApp (`bots/whatsapp`), Cloud API mode: Meta's webhook in, the Graph API out. */
export interface WhatsAppCloudConfig {
  mode: 'cloud';
  /** Permanent (system user) access token. */
  token: string;
  phoneNumberId: string;
  /** App secret: X-Hub-Signature-256 of every webhook POST. */
  appSecret: string;
  /** The string Meta echoes when verifying the webhook URL (GET hub.verify_token). */
  verifyToken: string;
  /** Graph API base URL (default https://graph.facebook.com; tests point it at a fake). */
  apiUrl: string;
  /** Graph API version in the path (default v21.0). */
  apiVersion: string;
  /** Template sent outside the 24-hour window, `name:language` (e.g. `chitty_update:en_US`). */
  template: { name: string; language: string } | undefined;
}

/** WhatsApp (`bots/whatsapp`), web mode: a personal number through whatsapp-web.js (chromium). */
export interface WhatsAppWebConfig {
  mode: 'web';
  /** The chromium whatsapp-web.js drives (PUPPETEER_EXECUTABLE_PATH, default /usr/bin/chromium). */
  executablePath: string;
  /** LocalAuth session folder (DATA_DIR/whatsapp); undefined when DATA_DIR is memory://. */
  sessionDir: string | undefined;
  /** Session lock TTL in Redis; the holder renews it every third of this. */
  lockTtlMs: number;
}

export type WhatsAppConfig = WhatsAppCloudConfig | WhatsAppWebConfig;

/** Email (`bots/email`): nodemailer out through SMTP_URL; smtp-server in (and POST /email/inbound). */
export interface EmailConfig {
  /** Outgoing SMTP, e.g. smtps://user:pass@smtp.example.com:465 or smtp://127.0.0.1:25. */
  smtpUrl: string;
  /** The bot's own address (From), e.g. ChittyChat <chitty@example.com>; mail from it is never run. */
  from: string;
  /** Bare address of `from`, lower-cased. */
  fromAddress: string;
  /** Domain of reply addresses `todo+<token>@<domain>` (its MX points at the listener or a provider). */
  replyDomain: string;
  /** Port of the built-in SMTP listener (default 2525; 0 picks a free one; `off` disables it). */
  inboundPort: number | undefined;
  /** Host the listener binds (default 0.0.0.0). */
  inboundHost: string;
  /** Largest message accepted, in bytes (552 above). */
  maxMessageBytes: number;
  /** Shared secret of POST /email/inbound (Authorization: Bearer); unset = the route is not mounted. */
  inboundSecret: string | undefined;
  /** HMAC secret of reply tokens; unset = generated once into DATA_DIR/email-token-secret. */
  tokenSecret: string | undefined;
  /** How long a reply token stays valid. */
  tokenTtlMs: number;
  /** PEM files for STARTTLS on the listener (both or neither). */
  tls: { certFile: string; keyFile: string } | undefined;
  /** Where a generated token secret is kept (`memory://` keeps it in memory). */
  dataDir: string;
}

export interface ChannelsConfig {
  /** The gateway's public base URL as platforms call it (behind proxies), e.g. https://chat.example.com */
  publicUrl: string | undefined;
  slack: SlackConfig | undefined;
  discord: DiscordConfig | undefined;
  whatsapp: WhatsAppConfig | undefined;
  sms: SmsConfig | undefined;
  email: EmailConfig | undefined;
}

const set = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v ? v : undefined;
};

/** Names of the variables of a channel that are set. */
const present = (env: NodeJS.ProcessEnv, names: string[]): string[] => names.filter((n) => set(env, n) !== undefined);

function halfConfigured(channel: string, have: string[], missing: string[], switchOn: string): ConfigError {
  return new ConfigError(
    `${channel} is half configured: ${have.join(', ')} ${have.length === 1 ? 'is' : 'are'} set but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not. Set ${missing.join(' and ')} to turn ${channel} on, or unset ${have.join(', ')} to leave it off (${switchOn}).`,
  );
}

function readSlack(env: NodeJS.ProcessEnv): SlackConfig | undefined {
  const names = ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN', 'SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'SLACK_API_URL'];
  const have = present(env, names);
  if (have.length === 0) return undefined;
  const switchOn = 'Slack needs SLACK_SIGNING_SECRET and either SLACK_BOT_TOKEN or SLACK_CLIENT_ID + SLACK_CLIENT_SECRET + SLACK_STATE_SECRET';
  const signingSecret = set(env, 'SLACK_SIGNING_SECRET');
  if (!signingSecret) throw halfConfigured('Slack', have, ['SLACK_SIGNING_SECRET'], switchOn);
  const oauthNames = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'];
  const oauthHave = present(env, oauthNames);
  if (oauthHave.length > 0 && oauthHave.length < 3)
    throw halfConfigured(
      'Slack OAuth',
      oauthHave,
      oauthNames.filter((n) => !oauthHave.includes(n)),
      switchOn,
    );
  const botToken = set(env, 'SLACK_BOT_TOKEN');
  if (!botToken && oauthHave.length === 0) throw halfConfigured('Slack', have, ['SLACK_BOT_TOKEN'], switchOn);
  const apiUrl = set(env, 'SLACK_API_URL');
  if (apiUrl) checkUrl('SLACK_API_URL', apiUrl);
  return {
    signingSecret,
    botToken,
    oauth: oauthHave.length === 3 ? { clientId: set(env, 'SLACK_CLIENT_ID')!, clientSecret: set(env, 'SLACK_CLIENT_SECRET')!, stateSecret: set(env, 'SLACK_STATE_SECRET')! } : undefined,
    apiUrl,
  };
}

function readDiscord(env: NodeJS.ProcessEnv): DiscordConfig | undefined {
  const names = ['DISCORD_PUBLIC_KEY', 'DISCORD_APPLICATION_ID', 'DISCORD_BOT_TOKEN', 'DISCORD_GATEWAY', 'DISCORD_GUILD_ID', 'DISCORD_API_URL', 'DISCORD_PREFIX'];
  const have = present(env, names);
  if (have.length === 0) return undefined;
  const required = ['DISCORD_PUBLIC_KEY', 'DISCORD_APPLICATION_ID', 'DISCORD_BOT_TOKEN'];
  const missing = required.filter((n) => !set(env, n));
  if (missing.length > 0) throw halfConfigured('Discord', have, missing, `Discord needs ${required.join(', ')}`);
  const publicKey = set(env, 'DISCORD_PUBLIC_KEY')!;
  if (!/^[0-9a-fA-F]{64}$/.test(publicKey)) throw new ConfigError('DISCORD_PUBLIC_KEY must be the 64 hex characters shown as "Public Key" on the application\'s General Information page.');
  const gatewayRaw = (set(env, 'DISCORD_GATEWAY') ?? 'off').toLowerCase();
  if (!['on', 'off', 'true', 'false', '1', '0'].includes(gatewayRaw)) throw new ConfigError(`DISCORD_GATEWAY must be on or off, got ${JSON.stringify(gatewayRaw)}.`);
  const apiUrl = set(env, 'DISCORD_API_URL');
  if (apiUrl) checkUrl('DISCORD_API_URL', apiUrl);
  return {
    publicKey,
    applicationId: set(env, 'DISCORD_APPLICATION_ID')!,
    botToken: set(env, 'DISCORD_BOT_TOKEN')!,
    gateway: ['on', 'true', '1'].includes(gatewayRaw),
    prefix: set(env, 'DISCORD_PREFIX') ?? '!chitty',
    guildId: set(env, 'DISCORD_GUILD_ID'),
    apiUrl,
  };
}

function readSms(env: NodeJS.ProcessEnv): SmsConfig | undefined {
  const names = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'TWILIO_MESSAGING_SERVICE_SID', 'TWILIO_API_URL'];
  const have = present(env, names);
  if (have.length === 0) return undefined;
  const switchOn = 'SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and either TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID';
  const missing = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'].filter((n) => !set(env, n));
  const from = set(env, 'TWILIO_FROM');
  const messagingServiceSid = set(env, 'TWILIO_MESSAGING_SERVICE_SID');
  if (!from && !messagingServiceSid) missing.push('TWILIO_FROM (or TWILIO_MESSAGING_SERVICE_SID)');
  if (missing.length > 0) throw halfConfigured('SMS', have, missing, switchOn);
  if (from && messagingServiceSid) throw new ConfigError('Set TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID, not both: with a Messaging Service, Twilio picks the sending number from its pool.');
  const accountSid = set(env, 'TWILIO_ACCOUNT_SID')!;
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) throw new ConfigError('TWILIO_ACCOUNT_SID must be the Account SID shown on the Twilio Console home page: AC followed by 32 hex characters.');
  if (from && !/^\+[1-9]\d{6,14}$/.test(from)) throw new ConfigError(`TWILIO_FROM must be your Twilio number in E.164 form, like +15551234567; got ${JSON.stringify(from)}.`);
  if (messagingServiceSid && !/^MG[0-9a-fA-F]{32}$/.test(messagingServiceSid)) throw new ConfigError('TWILIO_MESSAGING_SERVICE_SID must be a Messaging Service SID: MG followed by 32 hex characters.');
  const apiUrl = set(env, 'TWILIO_API_URL');
  if (apiUrl) checkUrl('TWILIO_API_URL', apiUrl);
  return { accountSid, authToken: set(env, 'TWILIO_AUTH_TOKEN')!, from, messagingServiceSid, apiUrl };
}

function readWhatsApp(env: NodeJS.ProcessEnv): WhatsAppConfig | undefined {
  const cloudNames = ['WHATSAPP_TOKEN', 'WHATSAPP_PHONE_NUMBER_ID', 'WHATSAPP_APP_SECRET', 'WHATSAPP_VERIFY_TOKEN'];
  const optional = ['WHATSAPP_API_URL', 'WHATSAPP_API_VERSION', 'WHATSAPP_TEMPLATE', 'WHATSAPP_LOCK_TTL_MS'];
  const have = present(env, ['WHATSAPP_MODE', ...cloudNames, ...optional]);
  if (have.length === 0) return undefined;
  const mode = (set(env, 'WHATSAPP_MODE') ?? 'cloud').toLowerCase();
  if (mode === 'web') {
    const ttl = set(env, 'WHATSAPP_LOCK_TTL_MS');
    const lockTtlMs = ttl === undefined ? 30_000 : Number(ttl);
    if (!Number.isInteger(lockTtlMs) || lockTtlMs < 500) throw new ConfigError(`WHATSAPP_LOCK_TTL_MS must be a whole number of milliseconds, at least 500; got ${JSON.stringify(ttl)}.`);
    const dataDir = set(env, 'DATA_DIR') ?? './data';
    return {
      mode: 'web',
      executablePath: set(env, 'PUPPETEER_EXECUTABLE_PATH') ?? '/usr/bin/chromium',
      sessionDir: dataDir === 'memory://' ? undefined : path.resolve(dataDir, 'whatsapp'),
      lockTtlMs,
    };
  }
  if (mode !== 'cloud') throw new ConfigError(`WHATSAPP_MODE must be cloud (the Cloud API) or web (whatsapp-web.js), got ${JSON.stringify(mode)}.`);
  const missing = cloudNames.filter((n) => !set(env, n));
  if (missing.length > 0) throw halfConfigured('WhatsApp', have, missing, `WhatsApp Cloud API needs ${cloudNames.join(', ')}; WHATSAPP_MODE=web needs none of them`);
  const apiUrl = set(env, 'WHATSAPP_API_URL') ?? 'https://graph.facebook.com';
  checkUrl('WHATSAPP_API_URL', apiUrl);
  const apiVersion = set(env, 'WHATSAPP_API_VERSION') ?? 'v21.0';
  if (!/^v\d+\.\d+$/.test(apiVersion)) throw new ConfigError(`WHATSAPP_API_VERSION must look like v21.0, got ${JSON.stringify(apiVersion)}.`);
  const phoneNumberId = set(env, 'WHATSAPP_PHONE_NUMBER_ID')!;
  if (!/^\d{5,30}$/.test(phoneNumberId))
    throw new ConfigError('WHATSAPP_PHONE_NUMBER_ID must be the numeric "Phone number ID" from the app\'s WhatsApp > API Setup page (not the phone number itself).');
  const rawTemplate = set(env, 'WHATSAPP_TEMPLATE');
  let template: WhatsAppCloudConfig['template'];
  if (rawTemplate) {
    const m = /^([a-z0-9_]{1,512}):([A-Za-z]{2,3}(?:_[A-Za-z]{2,4})?)$/.exec(rawTemplate);
    if (!m) throw new ConfigError(`WHATSAPP_TEMPLATE must be <template name>:<language code>, like chitty_update:en_US; got ${JSON.stringify(rawTemplate)}.`);
    template = { name: m[1]!, language: m[2]! };
  }
  return {
    mode: 'cloud',
    token: set(env, 'WHATSAPP_TOKEN')!,
    phoneNumberId,
    appSecret: set(env, 'WHATSAPP_APP_SECRET')!,
    verifyToken: set(env, 'WHATSAPP_VERIFY_TOKEN')!,
    apiUrl: apiUrl.replace(/\/+$/, ''),
    apiVersion,
    template,
  };
}

function readEmail(env: NodeJS.ProcessEnv): EmailConfig | undefined {
  const names = [
    'SMTP_URL',
    'EMAIL_FROM',
    'EMAIL_REPLY_DOMAIN',
    'INBOUND_SMTP_PORT',
    'EMAIL_INBOUND_SECRET',
    'EMAIL_TOKEN_SECRET',
    'EMAIL_TOKEN_TTL_DAYS',
    'EMAIL_TLS_CERT',
    'EMAIL_TLS_KEY',
    'EMAIL_MAX_BYTES',
  ];
  const have = present(env, names);
  if (have.length === 0) return undefined;
  const required = ['SMTP_URL', 'EMAIL_FROM', 'EMAIL_REPLY_DOMAIN'];
  const missing = required.filter((n) => !set(env, n));
  if (missing.length > 0) throw halfConfigured('Email', have, missing, `email needs ${required.join(', ')}`);
  const smtpUrl = set(env, 'SMTP_URL')!;
  if (!/^smtps?:\/\//i.test(smtpUrl)) throw new ConfigError(`SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://…, got ${JSON.stringify(smtpUrl.replace(/\/\/[^@/]*@/, '//…@'))}.`);
  const from = set(env, 'EMAIL_FROM')!;
  const fromAddress = (/<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1] ?? from).toLowerCase();
  if (!/^[^\s@<>]+@[^\s@<>]+$/.test(fromAddress)) throw new ConfigError(`EMAIL_FROM must be an address, like chitty@example.com or "ChittyChat <chitty@example.com>"; got ${JSON.stringify(from)}.`);
  const replyDomain = set(env, 'EMAIL_REPLY_DOMAIN')!.toLowerCase();
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(replyDomain) && replyDomain !== 'localhost')
    throw new ConfigError(`EMAIL_REPLY_DOMAIN must be a domain name like reply.example.com, got ${JSON.stringify(replyDomain)}.`);
  const portRaw = set(env, 'INBOUND_SMTP_PORT') ?? '2525';
  const inboundPort = portRaw.toLowerCase() === 'off' ? undefined : Number(portRaw);
  if (inboundPort !== undefined && (!Number.isInteger(inboundPort) || inboundPort < 0 || inboundPort > 65535))
    throw new ConfigError(`INBOUND_SMTP_PORT must be a port number (0 picks a free one) or off, got ${JSON.stringify(portRaw)}.`);
  const ttlRaw = set(env, 'EMAIL_TOKEN_TTL_DAYS') ?? '30';
  const ttlDays = Number(ttlRaw);
  if (!Number.isFinite(ttlDays) || ttlDays <= 0) throw new ConfigError(`EMAIL_TOKEN_TTL_DAYS must be a positive number of days, got ${JSON.stringify(ttlRaw)}.`);
  const maxRaw = set(env, 'EMAIL_MAX_BYTES') ?? String(10 * 1024 * 1024);
  const maxMessageBytes = Number(maxRaw);
  if (!Number.isInteger(maxMessageBytes) || maxMessageBytes < 1024) throw new ConfigError(`EMAIL_MAX_BYTES must be a whole number of bytes, at least 1024; got ${JSON.stringify(maxRaw)}.`);
  const certFile = set(env, 'EMAIL_TLS_CERT');
  const keyFile = set(env, 'EMAIL_TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) throw new ConfigError('Set both EMAIL_TLS_CERT and EMAIL_TLS_KEY (PEM files) to offer STARTTLS on the SMTP listener, or neither.');
  const secret = set(env, 'EMAIL_TOKEN_SECRET');
  if (secret !== undefined && secret.length < 16) throw new ConfigError('EMAIL_TOKEN_SECRET must be at least 16 characters (or unset: one is generated into DATA_DIR).');
  return {
    smtpUrl,
    from,
    fromAddress,
    replyDomain,
    inboundPort,
    inboundHost: set(env, 'INBOUND_SMTP_HOST') ?? '0.0.0.0',
    maxMessageBytes,
    inboundSecret: set(env, 'EMAIL_INBOUND_SECRET'),
    tokenSecret: secret,
    tokenTtlMs: Math.round(ttlDays * 24 * 60 * 60 * 1000),
    tls: certFile && keyFile ? { certFile, keyFile } : undefined,
    dataDir: set(env, 'DATA_DIR') ?? './data',
  };
}

function checkUrl(name: string, raw: string): void {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}.`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}.`);
}

export function readChannelsConfig(env: NodeJS.ProcessEnv): ChannelsConfig {
  const publicUrl = set(env, 'PUBLIC_URL');
  if (publicUrl) checkUrl('PUBLIC_URL', publicUrl);
  return { publicUrl, slack: readSlack(env), discord: readDiscord(env), whatsapp: readWhatsApp(env), sms: readSms(env), email: readEmail(env) };
}
