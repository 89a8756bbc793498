import type { z } from 'zod';
import { describeIssues, ValidationError } from '../shared/errors.js';

const positiveInteger = /^[1-9][0-9]{0,15}$/;

/** A path id: a positive integer no larger than `max`, else 400 naming the parameter. */
export function parseIdParam(value: string | undefined, name = 'id', max = 2_147_483_647): number {
  const id = value !== undefined && positiveInteger.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(id) || id > max) {
    throw new ValidationError(`${name}: must be a positive whole number${id > max ? ` at most ${max}` : ''}`);
  }
  return id;
}

/** Validates a request body; 400 with one "field: problem" line per bad field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) {
    // An issue without a path is about the body as a whole (an array, a string...).
    const issues = parsed.error.issues.map((issue) =>
      issue.path.length === 0 ? { path: ['body'], message: 'must be a JSON object' } : issue,
    );
    throw new ValidationError(describeIssues(issues));
  }
  refuseNulCharacters(parsed.data);
  return parsed.data;
}

// PostgreSQL text cannot hold U+0000: refuse it here, naming the field, rather than let the
// INSERT fail with a 500 after validation said yes.
function refuseNulCharacters(value: unknown): void {
  const found: string[] = [];
  const visit = (item: unknown, path: string[]) => {
    if (typeof item === 'string') {
      if (item.includes('\u0000')) found.push(`${path.join('.') || 'body'}: must not contain the NUL character (\\u0000)`);
    } else if (Array.isArray(item)) {
      item.forEach((element, index) => visit(element, [...path, String(index)]));
    } else if (item !== null && typeof item === 'object') {
      for (const [key, element] of Object.entries(item)) visit(element, [...path, key]);
    }
  };
  visit(value, []);
  if (found.length > 0) throw new ValidationError(found);
}

/** Like parseBody, for updates: at least one known field must be present. */
export function parsePatch<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const data = parseBody(schema, body);
  const present = Object.values(data as Record<string, unknown>).some((value) => value !== undefined);
  if (!present) throw new ValidationError('body: no field to update');
  return data;
}

/** Validates a query string (`ctx.query`); 400 with one "parameter: problem" line per bad one. */
export function parseQuery<S extends z.ZodType>(schema: S, query: Record<string, string | string[] | undefined>): z.output<S> {
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new ValidationError(describeIssues(parsed.error.issues));
  refuseNulCharacters(parsed.data);
  return parsed.data;
}
