import { expect } from 'chai';
import { buildAdminServices } from '../../src/admin-services.js';
import { createIntakeService } from '../../src/conversations/intake-service.js';
import { allRouteDocs } from '../../src/http/openapi/all-route-docs.js';
import { openApiPath } from '../../src/http/openapi/openapi-document.js';
import { createAdminRouter } from '../../src/http/routes/admin-router.js';
import { createWebhookRouter } from '../../src/http/routes/webhook-routes.js';
import { startHttpTestApp, type HttpTestApp } from './http-test-app.js';

interface LayerLike {
  path: string;
  methods: string[];
}

describe('OpenAPI description', () => {
  let app: HttpTestApp;
  before(async () => {
    app = await startHttpTestApp();
  });
  after(() => app.close());

  /** Every method + path the real routers answer, read from their stacks (nested routers are flattened into them). */
  function registeredRoutes(): string[] {
    const routers = [
      createAdminRouter({ ...app.deps, workerRunning: () => false, services: buildAdminServices(app.deps) }),
      createWebhookRouter({ ...app.deps, intake: createIntakeService(app.deps) }),
    ];
    return routers.flatMap((router) =>
      (router.stack as unknown as LayerLike[]).flatMap((layer) =>
        layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method.toLowerCase()} ${layer.path}`),
      ),
    );
  }

  it('documents every registered route and no other', () => {
    const registered = [...new Set(registeredRoutes())].sort();
    const documented = allRouteDocs.map((doc) => `${doc.method} ${doc.path}`).sort();
    expect(new Set(documented).size, 'a route documented twice').to.equal(documented.length);
    expect(documented).to.deep.equal(registered);
  });

  it('puts every documented /api route behind the bearer token (and only those documented open)', async () => {
    for (const doc of allRouteDocs) {
      expect(doc.path.startsWith('/api/'), `${doc.path} auth`).to.equal(doc.auth !== false);
      if (doc.auth === false) continue;
      const path = doc.path.replace(/:[A-Za-z]+/g, '1');
      const body = doc.method === 'get' ? undefined : '{}';
      const answer = await app.raw(doc.method.toUpperCase(), path, { headers: { 'content-type': 'application/json' }, body });
      expect(answer.status, `${doc.method} ${doc.path}`).to.equal(401);
      expect(answer.headers.get('www-authenticate')).to.equal('Bearer');
    }
  });

  it('is served at /api/openapi.json as OpenAPI 3.1 behind the token', async () => {
    const answer = await app.api('GET', '/api/openapi.json');
    expect(answer.status).to.equal(200);
    expect(answer.body.openapi).to.equal('3.1.0');
    for (const doc of allRouteDocs) {
      const operation = answer.body.paths[openApiPath(doc.path)]?.[doc.method];
      expect(operation, `${doc.method} ${doc.path}`).to.be.an('object');
      expect(operation.security).to.deep.equal(doc.auth === false ? [] : [{ bearerAuth: [] }]);
      if (doc.body) expect(operation.requestBody.content['application/json'].schema.type).to.equal('object');
    }
    const message = answer.body.paths['/api/flow-messages'].post.requestBody.content['application/json'].schema;
    expect(message.required).to.deep.equal(['subflow_id', 'message_text']);
    expect(message.properties.message_text).to.include({ type: 'string', maxLength: 4096 });
    expect(answer.body.paths['/api/flows/{id}'].get.parameters[0]).to.include({ name: 'id', in: 'path', required: true });
    expect((await app.api('GET', '/api/openapi.json', undefined, { authorization: '' })).status).to.equal(401);
  });

  it('validates every documented body field under the same name as the handler', async () => {
    const document = (await app.api('GET', '/api/openapi.json')).body;
    let checked = 0;
    for (const doc of allRouteDocs) {
      if (!doc.body || doc.auth === false) continue;
      const schema = document.paths[openApiPath(doc.path)][doc.method].requestBody.content['application/json'].schema;
      const path = doc.path.replace(':id', '1').replace(':key', 'BOT_ENABLED');
      for (const [field, fieldSchema] of Object.entries<Record<string, unknown>>(schema.properties)) {
        const body = { [field]: { nested: ['object'] } };
        const rejected = !doc.body.safeParse(body).success;
        const answer = await app.api(doc.method.toUpperCase(), path, body);
        if (Object.keys(fieldSchema).length === 0) continue; // accepts anything (a setting's value)
        expect(rejected, `${doc.method} ${doc.path} ${field}`).to.equal(true);
        expect(answer.status, `${doc.method} ${doc.path} ${field}`).to.equal(400);
        expect(answer.body.errors.some((error: string) => error.startsWith(`${field}`)), `${doc.path} ${field}: ${answer.body.errors}`).to.equal(true);
        checked += 1;
      }
    }
    expect(checked).to.be.greaterThan(30);
  });
});
