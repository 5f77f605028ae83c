/**
 * Routes by method and path template: `/repos/{owner}/{repo}/git/refs/{ref+}`. `{name}` takes one
 * path segment, `{name+}` one or more (slashes included). Match decoded paths (`pathOf`); the
 * parameters come back as they appear in the path.
 */

import { HttpError } from './errors.js';

export interface Route<H> {
  readonly method: string;
  /** The template as registered, e.g. `/repos/{owner}/{repo}/contents/{path+}`. */
  readonly template: string;
  readonly handler: H;
}

export type RouteMatch<H> =
  | { readonly kind: 'found'; readonly route: Route<H>; readonly params: Readonly<Record<string, string>> }
  /** Some route has this path, none this method: a 405, with the methods that would do. */
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'not-found' };

interface CompiledRoute<H> extends Route<H> {
  readonly pattern: RegExp;
  readonly names: readonly string[];
}

const PARAMETER = /\{([A-Za-z_][A-Za-z0-9_]*)(\+?)\}/g;

export class Router<H> {
  private readonly routes: CompiledRoute<H>[] = [];

  /** @param caseInsensitive match literal path parts regardless of case (GitHub does). */
  constructor(private readonly options: { readonly caseInsensitive?: boolean } = {}) {}

  /** Adds a route; the first route added that matches a request wins. */
  add(method: string, template: string, handler: H): this {
    const names: string[] = [];
    let source = '';
    let last = 0;
    for (const parameter of template.matchAll(PARAMETER)) {
      source += escapeRegExp(template.slice(last, parameter.index));
      source += parameter[2] === '+' ? '(.+)' : '([^/]+)';
      names.push(parameter[1]!);
      last = parameter.index + parameter[0].length;
    }
    source += escapeRegExp(template.slice(last));
    const pattern = new RegExp(`^${source}$`, this.options.caseInsensitive ? 'i' : '');
    this.routes.push({ method: method.toUpperCase(), template, handler, pattern, names });
    return this;
  }

  match(method: string, path: string): RouteMatch<H> {
    const upper = method.toUpperCase();
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (route.method !== upper) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, index) => {
        params[name] = found[index + 1]!;
      });
      return { kind: 'found', route, params };
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed } : { kind: 'not-found' };
  }
}

/** The request's path, percent-decoded (left as it is when it is not valid percent-encoding). */
export function pathOf(url: URL): string {
  try {
    return decodeURIComponent(url.pathname);
  } catch {
    return url.pathname;
  }
}

/**
 * One path segment, percent-decoded. A malformed escape (`%`, `%ZZ`, bytes that are not UTF-8) is the
 * client's mistake: a 400 that says so, not the URIError's 500.
 */
export function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

/** The request's URL; the host part is a placeholder (servers here listen on 127.0.0.1 only). */
export function urlOf(request: { readonly url?: string | undefined }): URL {
  return new URL(request.url ?? '/', 'http://127.0.0.1');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
