// Typed errors carry their HTTP status; the error middleware maps them to one stable JSON shape
// ({errors: [...]}) and never leaks a stack trace or SQL to the client.
export abstract class AppError extends Error {
  abstract readonly status: number;
  readonly errors: string[];
  constructor(errors: string[] | string) {
    const list = Array.isArray(errors) ? errors : [errors];
    super(list.join('; '));
    this.errors = list;
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
}

export class NotFoundError extends AppError {
  readonly status = 404;
}

export class ConflictError extends AppError {
  readonly status = 409;
}

/** The request is well-formed but what it points at cannot be processed (a flow that does not compile). */
export class UnprocessableError extends AppError {
  readonly status = 422;
}

/** Too many requests from one client (the rate limiter sets Retry-After before throwing it). */
export class TooManyRequestsError extends AppError {
  readonly status = 429;
}

export class ServiceUnavailableError extends AppError {
  readonly status = 503;
}

/** Turns zod issues into "field: problem" lines, the shape the front end shows next to fields. */
export function describeIssues(
  issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }>,
): string[] {
  return issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    return field ? `${field}: ${issue.message}` : issue.message;
  });
}
