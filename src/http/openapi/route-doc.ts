import type { z } from 'zod';

/**
 * One route as the OpenAPI description shows it. Each routes file exports a `RouteDoc[]` next to
 * its router, built from the same zod schemas the handlers validate with, so the published
 * description cannot drift from what the API accepts.
 */
export interface RouteDoc {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa style (`/api/flows/:id`); the generator turns `:id` into `{id}`. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  /** false for the open routes (/health, /ready, /webhook); admin routes need the bearer token. */
  readonly auth?: boolean;
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  /** Success status and its body schema (omit the schema for a free-form object). */
  readonly response?: { readonly status: number; readonly schema?: z.ZodType; readonly description?: string };
  /** Error statuses this route can answer besides 401 (added for every admin route). */
  readonly errors?: readonly number[];
}
