/** Request counts the benchmarks and tests read: GitHub's limits are per request kind. */

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The route template, e.g. `PATCH /repos/{owner}/{repo}/git/refs/{ref}`. */
  readonly route: string;
  readonly status: number;
}

export interface RequestStats {
  total: number;
  /** POST, PATCH, PUT and DELETE requests (GitHub's content-creating requests), app token exchanges aside. */
  contentCreating: number;
  /** 409 and 422 answers: stale sha, not a fast-forward. */
  conflicts: number;
  faults: number;
  byRoute: Record<string, number>;
  byStatus: Record<string, number>;
  readonly requests: RequestRecord[];
}

export function emptyStats(): RequestStats {
  return { total: 0, contentCreating: 0, conflicts: 0, faults: 0, byRoute: {}, byStatus: {}, requests: [] };
}

/** Counts a request as it arrives (before it is answered). */
export function countArrival(stats: RequestStats, method: string, path: string): void {
  stats.total++;
  if (method !== 'GET' && method !== 'HEAD' && !/^\/app\/installations\/[^/]+\/access_tokens$/.test(path)) {
    stats.contentCreating++;
  }
}

/** Counts an answer (status 0: the connection was dropped). */
export function countAnswer(stats: RequestStats, record: RequestRecord): void {
  stats.byRoute[record.route] = (stats.byRoute[record.route] ?? 0) + 1;
  stats.byStatus[String(record.status)] = (stats.byStatus[String(record.status)] ?? 0) + 1;
  if (record.status === 409 || record.status === 422) stats.conflicts++;
  stats.requests.push(record);
}

/** Zeroes the counters in place (callers hold the object). */
export function resetStats(stats: RequestStats): void {
  const { requests: _requests, ...counters } = emptyStats();
  Object.assign(stats, counters);
  stats.requests.length = 0;
}
