/**
 * Fault injection, the way the stand-ins' tests ask for it: "the next n requests that match fail
 * like this", or "until cleared". The kit keeps the plan and uses it up; what a fault looks like on
 * the wire (a 403 with `retry-after`, a 503 from a proxy, a dropped connection) is the stand-in's.
 */
import type { IncomingMessage } from 'node:http';

/** Which requests a fault (or a hook) applies to; absent fields match everything. */
export interface RequestMatch {
  /** An HTTP method, any case. */
  readonly method?: string | undefined;
  /** A substring of the path, or a pattern it must match. */
  readonly path?: RegExp | string | undefined;
}

export function matchesRequest(match: RequestMatch, method: string, path: string): boolean {
  return (
    (!match.method || match.method.toUpperCase() === method.toUpperCase()) &&
    (!match.path || (typeof match.path === 'string' ? path.includes(match.path) : match.path.test(path)))
  );
}

interface Planned<F> {
  readonly fault: F;
  readonly match: RequestMatch;
  remaining: number;
}

export class FaultPlan<F> {
  private readonly planned: Planned<F>[] = [];

  /** Makes the next `times` matching requests fail with `fault` (Infinity: until `clear()`). */
  inject(fault: F, options: RequestMatch & { readonly times?: number } = {}): void {
    const { times = 1, method, path } = options;
    this.planned.push({ fault, match: { method, path }, remaining: times });
  }

  /** The fault this request gets, if any, used up by one; the earliest injected wins. */
  take(method: string, path: string): F | undefined {
    const planned = this.planned.find(
      (candidate) => candidate.remaining > 0 && matchesRequest(candidate.match, method, path),
    );
    if (!planned) return undefined;
    planned.remaining--;
    return planned.fault;
  }

  /** Every fault this request matches, each used up by one (hooks that all run). */
  takeAll(method: string, path: string): F[] {
    const taken: F[] = [];
    for (const planned of this.planned) {
      if (planned.remaining > 0 && matchesRequest(planned.match, method, path)) {
        planned.remaining--;
        taken.push(planned.fault);
      }
    }
    return taken;
  }

  /** Forgets every fault still planned. */
  clear(): void {
    this.planned.length = 0;
  }
}

/** Drops the request's connection without an answer, as a crashed proxy would. */
export function dropConnection(request: IncomingMessage): void {
  request.socket.destroy();
}
