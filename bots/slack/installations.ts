/**
 * Bolt's `InstallationStore` on the hub database (`slack_installations`): what `/slack/oauth_redirect`
 * stores and where each team's bot token is found for sends and answers (multi-workspace mode).
 * {@link https://tools.slack.dev/node-slack-sdk/oauth#storing-installations-in-a-database}
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/oauth';
import { eq } from 'drizzle-orm';
import * as schema from '../../drizzle/schema.ts';
import type { Db } from '../../src/db.ts';

/** Row key of an installation: the org for an org-wide install, else the team. */
export function installationKey(q: { isEnterpriseInstall?: boolean; enterpriseId?: string | undefined; teamId?: string | undefined }): string {
  if (q.isEnterpriseInstall && q.enterpriseId) return `enterprise:${q.enterpriseId}`;
  if (q.teamId) return `team:${q.teamId}`;
  if (q.enterpriseId) return `enterprise:${q.enterpriseId}`;
  throw new Error('a Slack installation needs a team id or an enterprise id');
}

export class DbInstallationStore implements InstallationStore {
  constructor(private readonly db: Db) {}

  async storeInstallation<AuthVersion extends 'v1' | 'v2'>(installation: Installation<AuthVersion, boolean>): Promise<void> {
    const t = schema.slackInstallations;
    const key = installationKey({ isEnterpriseInstall: installation.isEnterpriseInstall ?? false, enterpriseId: installation.enterprise?.id, teamId: installation.team?.id });
    const row = {
      key,
      teamId: installation.team?.id ?? null,
      enterpriseId: installation.enterprise?.id ?? null,
      botUserId: installation.bot?.userId ?? null,
      installation: installation as unknown as Record<string, unknown>,
      updatedAt: new Date(),
    };
    await this.db.insert(t).values(row).onConflictDoUpdate({ target: t.key, set: row });
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation<'v1' | 'v2', boolean>> {
    const t = schema.slackInstallations;
    const keys = [installationKey(query)];
    if (!query.isEnterpriseInstall && query.enterpriseId) keys.push(`enterprise:${query.enterpriseId}`);
    for (const key of keys) {
      const [row] = await this.db.select({ installation: t.installation }).from(t).where(eq(t.key, key));
      if (row) return row.installation as unknown as Installation<'v1' | 'v2', boolean>;
    }
    throw new Error(`Slack is not installed in ${keys[0]}; install the app through /slack/install`);
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    const t = schema.slackInstallations;
    await this.db.delete(t).where(eq(t.key, installationKey(query)));
  }

  /** Bot user ids per team, for own-echo detection (loaded at start, refreshed on install). */
  async botUsers(): Promise<Map<string, string>> {
    const t = schema.slackInstallations;
    const rows = await this.db.select({ teamId: t.teamId, botUserId: t.botUserId }).from(t);
    return new Map(rows.filter((r) => r.teamId && r.botUserId).map((r) => [r.teamId!, r.botUserId!]));
  }
}
