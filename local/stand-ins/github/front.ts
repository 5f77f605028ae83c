/**
 * One GitHub API address in front of several GitHub stand-ins, one repository each: a request for
 * `/repos/{owner}/{repo}/…` goes to the stand-in serving that repository (GitHub's paths are
 * case-insensitive); any other request (a GitHub App's `/app/…`, `/orgs/{org}/installation`,
 * `/users/{username}/installation`) goes to each stand-in in turn until one answers other than 404,
 * since stand-ins that share one GitHubApp all know its installations. The committer holds one client
 * for every repository, as it does against api.github.com, so a test of several repositories needs
 * one address.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { readBody, sendJson, startHttpServer } from '../../http/index.js';
import type { GitHubServer } from './server.js';

export interface GitHubFront {
  readonly url: string;
  close(): Promise<void>;
}

/** Headers a forwarded answer must not copy: fetch has already undone the encoding and framing. */
const HOP_BY_HOP = new Set([
  'connection',
  'content-encoding',
  'content-length',
  'keep-alive',
  'transfer-encoding',
]);

export async function startGitHubFront(servers: readonly GitHubServer[]): Promise<GitHubFront> {
  const byName = new Map(servers.map((server) => [`${server.owner}/${server.repo}`.toLowerCase(), server]));
  const http = await startHttpServer({
    handle: async (request, response) => {
      const url = request.url ?? '/';
      const [, owner, repo] = /^\/repos\/([^/]+)\/([^/?]+)/.exec(url) ?? [];
      const targets = owner && repo ? [byName.get(`${owner}/${repo}`.toLowerCase())] : servers;
      const body = await readBody(request, 10 * 1024 * 1024);
      let answer: Response | undefined;
      for (const target of targets) {
        if (!target) continue;
        await answer?.arrayBuffer(); // a 404 passed over
        answer = await fetch(`${target.url}${url}`, {
          method: request.method ?? 'GET',
          headers: forwardable(request.headers),
          ...(body.length > 0 ? { body } : {}),
        });
        if (answer.status !== 404) break;
      }
      if (!answer) {
        sendJson(response, 404, { message: 'Not Found' });
        return;
      }
      const headers: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!HOP_BY_HOP.has(name)) headers[name] = value;
      });
      response.writeHead(answer.status, headers);
      response.end(Buffer.from(await answer.arrayBuffer()));
    },
  });
  return { url: http.url, close: () => http.close() };
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name === 'host' || HOP_BY_HOP.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
