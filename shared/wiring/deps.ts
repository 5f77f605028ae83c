/**
 * How handlers get their dependencies. A handler factory takes either the dependencies or a function
 * that builds them, so the deployed handler reads its config on first use (not at import, where a bad
 * config would crash the cold start without a useful log) while tests pass their own.
 */
export type DepsSource<T> = T | (() => T | Promise<T>);

/** Turns a DepsSource into a function awaited on each invocation. */
export function depsResolver<T>(deps: DepsSource<T>): () => Promise<T> {
  if (typeof deps === 'function') {
    const build = deps as () => T | Promise<T>;
    return async () => build();
  }
  return async () => deps;
}

/**
 * Builds once per process (a Lambda environment, a local run) and reuses the result; a failed build
 * is forgotten so the next invocation tries again instead of failing forever on a transient error.
 */
export function onceAsync<T>(build: () => T | Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= (async () => build())().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
