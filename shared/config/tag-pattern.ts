/**
 * Tag patterns (`apps.<name>.tags`) run on RE2 (re2js): matching takes time linear in the tag's
 * length whatever the pattern, so a pattern like `^v(\d+\.?)+$` cannot stall the intake on a long tag
 * (JavaScript's backtracking RegExp takes minutes there). RE2 has no backreferences or lookarounds;
 * such a pattern is refused when the config is read.
 */
import { RE2JS, RE2JSException } from 're2js';

/** A compiled tag pattern. */
export interface TagPattern {
  /** Whether the pattern matches somewhere in the tag, like `RegExp.prototype.test` (anchor with `^…$`). */
  test(tag: string): boolean;
}

export class TagPatternError extends Error {
  override readonly name = 'TagPatternError';
}

// Patterns come from the config, so there are a handful; compiled once per Lambda environment.
const compiled = new Map<string, TagPattern>();

/** Why RE2 cannot run the pattern, or undefined when it can. */
export function tagPatternProblem(pattern: string): string | undefined {
  try {
    compileTagPattern(pattern);
    return undefined;
  } catch (error) {
    if (error instanceof TagPatternError) return error.message;
    throw error;
  }
}

/** Compiles a tag pattern with RE2 semantics; throws TagPatternError saying why it cannot. */
export function compileTagPattern(pattern: string): TagPattern {
  const cached = compiled.get(pattern);
  if (cached) return cached;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (error) {
    if (!(error instanceof RE2JSException)) throw error;
    throw new TagPatternError(
      `not a pattern Shiplane can match in linear time (RE2 syntax: no backreferences or lookarounds): ${error.message}`,
      { cause: error },
    );
  }
  const tagPattern: TagPattern = { test: (tag) => re.test(tag) };
  compiled.set(pattern, tagPattern);
  return tagPattern;
}
