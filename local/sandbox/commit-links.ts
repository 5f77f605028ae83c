/**
 * Where the console links a stage's commit. The sandbox's commit view shows the one repository the
 * GitHub stand-in serves; a stage whose commits for an app go to another repository
 * (config/tag-location.ts) must link there, not into the commit view under the wrong repository.
 */
import type { Config } from '../../shared/config/schema.js';
import { tagLocation } from '../../shared/config/tag-location.js';
import { gitopsCommitUrl } from '../../shared/domain/repo-url.js';

/** Per app and stage, how the web URL of a commit made there begins (the sha follows). */
export function stageCommitUrlPrefixes(config: Config): Record<string, Record<string, string>> {
  const { apiUrl } = config.gitops.github;
  const prefixes: Record<string, Record<string, string>> = {};
  for (const app of Object.keys(config.apps)) {
    const byStage: Record<string, string> = {};
    for (const { name } of config.stages) {
      const prefix = gitopsCommitUrl(apiUrl, tagLocation(config, app, name).repository, '');
      if (prefix !== undefined) byStage[name] = prefix;
    }
    prefixes[app] = byStage;
  }
  return prefixes;
}
