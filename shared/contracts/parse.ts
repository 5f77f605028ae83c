import { formatPath } from '../config/shape.js';
import { InvalidInputError } from '../errors.js';
import * as z from './zod.js';

/** Parses input at a boundary; the error names every field that is wrong. */
export function parseInput<S extends z.core.$ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
  throw new InvalidInputError(`${what} is not valid: ${problems.join('; ')}`);
}
