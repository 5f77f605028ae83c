/**
 * The issues API as far as pull requests need it: a pull request read as an issue (where `closed_by`
 * is), and its conversation comments — added (201) and listed oldest first, in pages.
 */
import { type AddRoute, field } from '../context.js';
import { GitHubApiError } from '../errors.js';
import { commentJson, issueJson, paged } from '../pull-json.js';
import { loginOf } from '../pull-records.js';
import type { PullRequestStore } from '../pull-request-store.js';

export function addIssueRoutes(route: AddRoute, pulls: PullRequestStore): void {
  const { repo } = pulls;

  route('GET', '/repos/{owner}/{repo}/issues/{number}', async (ctx, { number }) => ({
    status: 200,
    body: issueJson(ctx.base, repo, await pulls.find(Number(number))),
  }));

  route('GET', '/repos/{owner}/{repo}/issues/{number}/comments', async (ctx, { number }) => {
    const pull = await pulls.find(Number(number));
    const page = paged(pull.comments, ctx.base, ctx.path, ctx.query);
    return {
      status: 200,
      body: page.body.map((comment) => commentJson(ctx.base, repo, pull.number, comment)),
      headers: page.headers,
    };
  });

  route('POST', '/repos/{owner}/{repo}/issues/{number}/comments', async (ctx, { number }) => {
    const body = field<string>(ctx.body, 'body');
    if (typeof body !== 'string' || body === '') {
      throw new GitHubApiError(422, 'Invalid request.\n\n"body" wasn\'t supplied.');
    }
    const comment = await pulls.addComment(Number(number), body, loginOf(ctx.identity));
    return { status: 201, body: commentJson(ctx.base, repo, Number(number), comment) };
  });
}
