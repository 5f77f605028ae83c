/**
 * The commit view the console links every commit hash to: the commit's message, author and files,
 * each with its diff, read from the sandbox's GitOps repository (the GitHub stand-in's git store).
 * Commit links in Slack messages point at the stand-in's web URL, which answers only API requests
 * with a token; the console sends them here instead.
 */
import type { CommitDiff } from '../stand-ins/github/git-store.js';

/** A commit as `GET /api/commits/{sha}` answers it. */
export interface CommitView {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly author: { readonly name: string; readonly email: string; readonly date: string };
  readonly committer: { readonly name: string; readonly email: string; readonly date: string };
  readonly message: string;
  readonly files: ReadonlyArray<{
    readonly filename: string;
    readonly status: string;
    readonly additions: number;
    readonly deletions: number;
    readonly patch?: string | undefined;
  }>;
}

/** What `/commits/{sha}` accepts: an abbreviated or full hex sha (never a ref name or an option). */
export const COMMIT_SHA = /^[0-9a-f]{4,40}$/i;

export function commitView(diff: CommitDiff): CommitView {
  const { info, files } = diff;
  return {
    sha: info.sha,
    parents: info.parents,
    author: info.author,
    committer: info.committer,
    message: info.message,
    files: files.map((file) => ({ ...file })),
  };
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `<time>` that the page's script writes in the console's one time format. */
const time = (iso: string) => `<time datetime="${escapeHtml(iso)}">${escapeHtml(iso)}</time>`;

function patchHtml(patch: string): string {
  return patch
    .split('\n')
    .map((line) => {
      const kind = line.startsWith('@@')
        ? 'hunk'
        : line.startsWith('+')
          ? 'add'
          : line.startsWith('-')
            ? 'del'
            : line.startsWith('\\')
              ? 'note'
              : 'ctx';
      return `<span class="line ${kind}">${escapeHtml(line)}</span>`;
    })
    .join('\n');
}

const page = (title: string, body: string) => `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${escapeHtml(title)}</title>
    <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="/console.css" />
    <script type="module">
      import { formatTimes } from '/time.js';
      formatTimes(document);
    </script>
  </head>
  <body class="commit-page">
    <header class="topbar">
      <div class="brand">Shiplane <span class="muted">sandbox</span></div>
      <a href="/" data-testid="back">← console</a>
    </header>
    <main class="commit-main">
${body}
    </main>
  </body>
</html>
`;

/** The commit view as a page. */
export function commitPageHtml(view: CommitView, repository: string): string {
  const [subject = '', ...rest] = view.message.split('\n');
  const body = rest.join('\n').trim();
  const added = view.files.reduce((sum, file) => sum + file.additions, 0);
  const removed = view.files.reduce((sum, file) => sum + file.deletions, 0);
  const parents = view.parents.length
    ? view.parents
        .map((parent) => `<a class="mono" href="/commits/${parent}">${parent.slice(0, 7)}</a>`)
        .join(', ')
    : 'none (the first commit)';
  const files = view.files
    .map(
      (file) => `      <section class="panel file" data-file="${escapeHtml(file.filename)}">
        <div class="panel-head"><h2 class="mono">${escapeHtml(file.filename)}</h2>
          <span class="muted">${escapeHtml(file.status)} · <span class="add">+${file.additions}</span> <span class="del">−${file.deletions}</span></span></div>
        ${file.patch ? `<pre class="diff" data-testid="diff">${patchHtml(file.patch)}</pre>` : '<p class="muted">no text diff (binary file)</p>'}
      </section>`,
    )
    .join('\n');
  return page(
    `${subject} · ${view.sha.slice(0, 7)}`,
    `      <section class="panel commit-head" data-testid="commit">
        <div class="panel-head"><h2>${escapeHtml(subject)}</h2><span class="muted">${escapeHtml(repository)}</span></div>
        ${body ? `<pre class="commit-body">${escapeHtml(body)}</pre>` : ''}
        <dl class="commit-facts">
          <dt>commit</dt><dd class="mono" data-testid="commit-sha">${view.sha}</dd>
          <dt>parent</dt><dd>${parents}</dd>
          <dt>author</dt><dd>${escapeHtml(view.author.name)} &lt;${escapeHtml(view.author.email)}&gt; at ${time(view.author.date)}</dd>
          <dt>committer</dt><dd>${escapeHtml(view.committer.name)} at ${time(view.committer.date)}</dd>
          <dt>changes</dt><dd>${view.files.length} ${view.files.length === 1 ? 'file' : 'files'}, <span class="add">+${added}</span> <span class="del">−${removed}</span></dd>
        </dl>
      </section>
${files}`,
  );
}

/** The page for a sha the repository does not have (or that is no sha). */
export function missingCommitPageHtml(sha: string, reason: string): string {
  return page(
    'No such commit',
    `      <section class="panel commit-head" data-testid="commit-missing">
        <div class="panel-head"><h2>No commit ${escapeHtml(sha)}</h2></div>
        <p>${escapeHtml(reason)}</p>
      </section>`,
  );
}
