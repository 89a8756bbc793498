import Router from '@koa/router';
import { z } from 'zod';
import { buildOpenApiDocument } from '../openapi/openapi-document.js';
import type { RouteDoc } from '../openapi/route-doc.js';

const info = {
  title: 'GOSAC flow bot API',
  version: '1.0.0',
  description: 'Admin API (bearer token), GOSAC webhook and health checks. Generated from the zod schemas the handlers validate with.',
};

/** GET /api/openapi.json, built once on first request from every routes file's RouteDoc[]. */
export function createOpenApiRoutes(deps: { readonly docs: readonly RouteDoc[] }): Router {
  const router = new Router();
  let document: Record<string, unknown> | undefined;
  router.get('/openapi.json', (ctx) => {
    document ??= buildOpenApiDocument(deps.docs, info);
    ctx.body = document;
  });
  return router;
}

export const openApiRouteDocs: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/openapi.json',
    tag: 'meta',
    summary: 'This description (OpenAPI 3.1)',
    response: { status: 200, schema: z.record(z.string(), z.unknown()) },
  },
];
