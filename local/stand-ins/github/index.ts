/**
 * The GitHub stand-in: a local HTTP server speaking GitHub's REST API over a real git repository.
 * Tests, benchmarks and the sandbox point Octokit at `url` (or `enterpriseUrl`) instead of api.github.com.
 */
export { type GitHubFront, startGitHubFront } from './front.js';
export { type CommitInfo, type GitIdentity, GitStore, seedFromDirectory } from './git-store.js';
export { GitHubApp, type GitHubAppInstallation, type GitHubAppSpec } from './github-app.js';
export {
  type CommentRecord,
  type Fault,
  type FaultKind,
  type GitHubAppOptions,
  type GitHubServer,
  type GitHubServerOptions,
  type MergeMethod,
  type PullRecord,
  type RequestMatch,
  type RequestRecord,
  type RequestStats,
  startGitHubServer,
} from './server.js';
