/**
 * The pulls API: create (201; a second open one for the same head is 422 "A pull request already
 * exists"), list with GitHub's filters and pages, read with mergeability, update (close, reopen,
 * title, body), merge (200; 405 not mergeable; 409 head changed) and request reviewers.
 */
import { type AddRoute, field } from '../context.js';
import { GitHubApiError } from '../errors.js';
import { paged, pullJson } from '../pull-json.js';
import { loginOf, type MergeMethod } from '../pull-records.js';
import type { PullRequestStore } from '../pull-request-store.js';

const METHODS: readonly string[] = ['merge', 'squash', 'rebase'];

export function addPullRoutes(route: AddRoute, pulls: PullRequestStore): void {
  const { repo } = pulls;
  const full = async (base: string, number: number) => {
    const pull = await pulls.find(number);
    const mergeability = pull.state === 'open' ? await pulls.mergeability(pull) : null;
    return pullJson(base, repo, pull, { mergeability });
  };

  route('POST', '/repos/{owner}/{repo}/pulls', async (ctx) => {
    const pull = await pulls.create({
      title: field(ctx.body, 'title'),
      body: field(ctx.body, 'body'),
      head: field(ctx.body, 'head'),
      base: field(ctx.body, 'base'),
      author: loginOf(ctx.identity),
    });
    return { status: 201, body: await full(ctx.base, pull.number) };
  });

  route('GET', '/repos/{owner}/{repo}/pulls', async (ctx) => {
    const state = ctx.query.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) throw new GitHubApiError(422, 'Validation Failed');
    const list = await pulls.list({
      state,
      head: ctx.query.get('head') ?? undefined,
      base: ctx.query.get('base') ?? undefined,
    });
    const page = paged(list, ctx.base, ctx.path, ctx.query);
    return {
      status: 200,
      body: page.body.map((pull) => pullJson(ctx.base, repo, pull)),
      headers: page.headers,
    };
  });

  route('GET', '/repos/{owner}/{repo}/pulls/{number}', async (ctx, { number }) => ({
    status: 200,
    body: await full(ctx.base, Number(number)),
  }));

  route('PATCH', '/repos/{owner}/{repo}/pulls/{number}', async (ctx, { number }) => {
    const state = field<string>(ctx.body, 'state');
    const title = field<string>(ctx.body, 'title');
    const body = field<string>(ctx.body, 'body');
    if (state !== undefined && state !== 'open' && state !== 'closed') {
      throw new GitHubApiError(422, 'Validation Failed', undefined, [
        { resource: 'PullRequest', field: 'state', code: 'invalid' },
      ]);
    }
    const pull = await pulls.find(Number(number));
    if (state === 'closed') await pulls.close(pull.number, loginOf(ctx.identity));
    if (state === 'open') await pulls.reopen(pull.number);
    if (typeof title === 'string') pull.title = title;
    if (typeof body === 'string') pull.body = body;
    return { status: 200, body: await full(ctx.base, pull.number) };
  });

  route('PUT', '/repos/{owner}/{repo}/pulls/{number}/merge', async (ctx, { number }) => {
    const method = field<string>(ctx.body, 'merge_method') ?? 'merge';
    const sha = field<string>(ctx.body, 'sha');
    if (!METHODS.includes(method)) {
      throw new GitHubApiError(
        422,
        'Invalid request.\n\nmerge_method is not a member of ["merge", "squash", "rebase"].',
      );
    }
    const commit = await pulls.merge(Number(number), {
      method: method as MergeMethod,
      sha,
      by: ctx.identity,
    });
    return { status: 200, body: { sha: commit, merged: true, message: 'Pull Request successfully merged' } };
  });

  route('POST', '/repos/{owner}/{repo}/pulls/{number}/requested_reviewers', async (ctx, { number }) => {
    const reviewers = field<unknown>(ctx.body, 'reviewers') ?? [];
    if (!Array.isArray(reviewers) || reviewers.some((login) => typeof login !== 'string')) {
      throw new GitHubApiError(422, 'Invalid request.\n\nreviewers must be an array of logins.');
    }
    const pull = await pulls.requestReviewers(Number(number), reviewers as string[]);
    return { status: 201, body: pullJson(ctx.base, repo, pull) };
  });
}
