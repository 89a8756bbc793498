import { z } from 'zod';
import type { RouteDoc } from './route-doc.js';

type JsonSchema = Record<string, unknown>;

export interface OpenApiInfo {
  readonly title: string;
  readonly version: string;
  readonly description?: string;
}

const errorStatusText: Record<number, string> = {
  400: 'Invalid input: one "field: problem" line per bad field',
  401: 'Missing or wrong bearer token',
  404: 'Unknown id',
  409: 'Conflicts with the current data',
  413: 'Body too large',
  422: 'Well-formed, but what it points at cannot be processed',
  429: 'Too many requests from this client; see Retry-After',
  503: 'A dependency is unavailable; try again later',
};

/**
 * Request schemas are described as the client must SEND them (zod's input side: before defaults
 * and transforms); refinements have no JSON Schema form and are left to the server's 400 answer.
 */
function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return json;
}

/** `/api/flows/:id` → `/api/flows/{id}`. */
export function openApiPath(koaPath: string): string {
  return koaPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

function pathParameters(koaPath: string): JsonSchema[] {
  return [...koaPath.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    // Ids are positive integers (validation.ts parseIdParam); other parameters (a setting key) are text.
    schema: name === 'id' || name.endsWith('Id') ? { type: 'integer', minimum: 1 } : { type: 'string' },
  }));
}

function queryParameters(query: z.ZodType | undefined): JsonSchema[] {
  if (!query) return [];
  const json = toSchema(query, 'input');
  const properties = (json['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json['required'] ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => ({ name, in: 'query', required: required.has(name), schema }));
}

function operationId(doc: RouteDoc): string {
  const words = doc.path
    .split(/[/\-.]/)
    .filter((part) => part !== '' && part !== 'api')
    .map((part) => (part.startsWith(':') ? `by ${part.slice(1)}` : part))
    .join(' ')
    .split(' ');
  return [doc.method, ...words].map((word, index) => (index === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1))).join('');
}

function operation(doc: RouteDoc): JsonSchema {
  const secured = doc.auth !== false;
  const responses: Record<string, JsonSchema> = {};
  const success = doc.response ?? { status: 200 };
  responses[String(success.status)] = {
    description: success.description ?? 'Success',
    content: { 'application/json': { schema: success.schema ? toSchema(success.schema, 'output') : { type: 'object' } } },
  };
  const errorStatuses = new Set([...(doc.errors ?? []), ...(secured ? [401, 429] : []), ...(doc.body ? [400, 413] : [])]);
  for (const status of [...errorStatuses].sort((a, b) => a - b)) {
    responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }
  return {
    operationId: operationId(doc),
    summary: doc.summary,
    tags: [doc.tag],
    ...(secured ? { security: [{ bearerAuth: [] }] } : { security: [] }),
    ...(() => {
      const parameters = [...pathParameters(doc.path), ...queryParameters(doc.query)];
      return parameters.length > 0 ? { parameters } : {};
    })(),
    ...(doc.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(doc.body, 'input') } } } }
      : {}),
    responses,
  };
}

/** An OpenAPI 3.1 document of the given routes. Throws on a route documented twice. */
export function buildOpenApiDocument(docs: readonly RouteDoc[], info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const doc of docs) {
    const path = openApiPath(doc.path);
    const item = (paths[path] ??= {});
    if (item[doc.method]) throw new Error(`route documented twice: ${doc.method.toUpperCase()} ${doc.path}`);
    item[doc.method] = operation(doc);
  }
  const errorResponses = Object.fromEntries(
    Object.entries(errorStatusText).map(([status, description]) => [
      `Error${status}`,
      { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Errors' } } } },
    ]),
  );
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    tags: [...new Set(docs.map((doc) => doc.tag))].map((name) => ({ name })),
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'ADMIN_API_TOKEN' } },
      schemas: {
        Errors: {
          type: 'object',
          required: ['errors'],
          properties: { errors: { type: 'array', minItems: 1, items: { type: 'string' } } },
        },
      },
      responses: errorResponses,
    },
  };
}
