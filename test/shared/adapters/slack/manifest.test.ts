import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const manifest = parse(
  readFileSync(new URL('../../../../infra/slack-app-manifest.yaml', import.meta.url), 'utf8'),
) as {
  _metadata: { major_version: number };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string }; socket_mode_enabled: boolean };
  features: { bot_user: { display_name: string } };
};

describe('the Slack app manifest', () => {
  it('grants exactly the bot scopes the Slack adapter calls need', () => {
    // chat.postMessage / chat.update / chat.postEphemeral → chat:write; usergroups.users.list → usergroups:read.
    expect(manifest.oauth_config.scopes.bot.sort()).toEqual(['chat:write', 'usergroups:read']);
  });

  it('turns interactivity on, over HTTPS to the interaction route, without Socket Mode', () => {
    expect(manifest._metadata.major_version).toBe(2);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.interactivity.request_url).toMatch(/^https:\/\/.+\/slack\/interactions$/);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
    expect(manifest.features.bot_user.display_name).toBe('Shiplane');
  });
});
