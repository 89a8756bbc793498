// Stand-ins for Pontta and Google (token endpoint, Drive, Sheets) on 127.0.0.1. Each records every
// request with its headers and raw body, parses multipart bodies, and checks what the real
// services would: credentials, headers, body shapes. A request that breaks a rule is answered 400
// and listed in `violations`, so a test can assert there were none.
import { createPublicKey, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly status: number;
}

export interface MultipartPart {
  readonly headers: Record<string, string>;
  readonly name: string | undefined;
  readonly filename: string | undefined;
  readonly body: Buffer;
}

/** Splits a multipart body (form-data or related) into its parts. */
export function parseMultipart(body: Buffer, contentType: string | undefined): MultipartPart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) throw new Error(`no multipart boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: MultipartPart[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    const chunk = body.subarray(start + 2, next - 2); // skip CRLF after the delimiter and before the next
    const split = chunk.indexOf('\r\n\r\n');
    const headerText = chunk.subarray(0, split).toString('utf8');
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const disposition = headers['content-disposition'] ?? '';
    parts.push({
      headers,
      name: /name="([^"]*)"/.exec(disposition)?.[1],
      filename: /filename="([^"]*)"/.exec(disposition)?.[1],
      body: chunk.subarray(split + 4),
    });
    at = next;
  }
  return parts;
}

interface Fault {
  readonly status: number;
  readonly reset?: boolean;
}

interface Base {
  readonly url: string;
  readonly requests: Recorded[];
  readonly violations: string[];
  /** The next `times` requests to `path` (prefix) answer `status` (0: the connection is dropped). */
  failNext(path: string, times: number, status: number): void;
  clearFaults(): void;
  /** Requests to `path` (prefix) that were answered 2xx. */
  ok(path: string, method?: string): Recorded[];
  stop(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

type Handler = (request: IncomingMessage, url: URL, body: Buffer, violation: (problem: string) => void) => { status: number; headers?: Record<string, string>; json?: unknown };

async function startFake(handle: Handler): Promise<Base> {
  const requests: Recorded[] = [];
  const violations: string[] = [];
  const faults: Array<{ path: string } & Fault> = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    void readBody(request).then((body) => {
      const url = new URL(request.url ?? '/', 'http://fake');
      const record = (status: number) => requests.push({ method: request.method ?? '', path: url.pathname, query: url.searchParams, headers: request.headers, body, status });
      const faultAt = faults.findIndex((fault) => url.pathname.startsWith(fault.path));
      if (faultAt !== -1) {
        const [fault] = faults.splice(faultAt, 1);
        record(fault!.status);
        if (fault!.status === 0) {
          request.socket.destroy();
          return;
        }
        response.writeHead(fault!.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: `fake ${fault!.status}` } }));
        return;
      }
      const problems: string[] = [];
      let answer: ReturnType<Handler>;
      try {
        answer = handle(request, url, body, (problem) => problems.push(problem));
      } catch (error) {
        problems.push(String(error));
        answer = { status: 400 };
      }
      if (problems.length > 0) {
        violations.push(...problems.map((problem) => `${request.method} ${url.pathname}: ${problem}`));
        answer = { status: 400, json: { error: { message: problems.join('; ') } } };
      }
      record(answer.status);
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(answer.json === undefined ? '' : JSON.stringify(answer.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    violations,
    failNext(path, times, status) {
      for (let i = 0; i < times; i += 1) faults.push({ path, status });
    },
    clearFaults() {
      faults.length = 0;
    },
    ok(path, method) {
      return requests.filter((r) => r.path.startsWith(path) && r.status < 300 && (method === undefined || r.method === method));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Pontta

export interface FakePontta extends Base {
  readonly authUrl: string;
  readonly baseUrl: string;
  readonly email: string;
  readonly password: string;
  readonly businessUnit: string;
  /** The tokens handed out, in order. */
  readonly tokens: string[];
  readonly occurrences: Array<{ id: number; body: Record<string, unknown> }>;
  readonly attachments: Array<{ occurrenceId: string; filename: string | undefined; contentType: string | undefined; bytes: Buffer }>;
  /** The next call with the current token answers 401 (as if it had expired early). */
  expireTokenOnce(): void;
}

function fakeJwt(lifeSeconds: number): string {
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: 'bot', exp: Math.floor(Date.now() / 1000) + lifeSeconds })}.${randomBytes(8).toString('hex')}`;
}

export async function startFakePontta(): Promise<FakePontta> {
  const email = 'bot@example.test';
  const password = `fake-pontta-${randomBytes(6).toString('hex')}`;
  const businessUnit = 'BU-42';
  const tokens: string[] = [];
  const revoked = new Set<string>();
  const occurrences: FakePontta['occurrences'] = [];
  const attachments: FakePontta['attachments'] = [];
  let expireOnce = false;
  let nextOccurrence = 981;

  const base = await startFake((request, url, body, violation) => {
    if (url.pathname === '/api/authenticate') {
      const login = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (request.method !== 'POST') violation('authenticate must be POST');
      if (!String(request.headers['content-type']).startsWith('application/json')) violation('authenticate body must be JSON');
      if (login['email'] !== email || login['password'] !== password) return { status: 401, json: { title: 'Unauthorized' } };
      if (login['rememberMe'] !== true) violation('rememberMe must be true');
      const token = fakeJwt(600);
      tokens.push(token);
      return { status: 200, json: { id_token: token } };
    }
    const token = /^Bearer (.+)$/.exec(String(request.headers['authorization'] ?? ''))?.[1];
    if (!token || !tokens.includes(token) || revoked.has(token)) return { status: 401, json: { title: 'Unauthorized' } };
    if (expireOnce) {
      expireOnce = false;
      revoked.add(token);
      return { status: 401, json: { title: 'Unauthorized' } };
    }
    if (request.headers['businessunit'] !== businessUnit) violation(`Businessunit header must be ${businessUnit}`);

    if (request.method === 'GET' && url.pathname === '/api/sales-orders/summary') {
      if (url.searchParams.get('status') !== 'VALID' || url.searchParams.get('page') !== '0' || url.searchParams.get('size') !== '25') {
        violation('sales order search needs status=VALID&page=0&size=25');
      }
      const code = url.searchParams.get('q') ?? '';
      return { status: 200, json: { content: code ? [{ id: 5500 + Number(code.replace(/\D/g, '') || 0) % 100, code }] : [] } };
    }
    if (request.method === 'POST' && url.pathname === '/api/occurrences') {
      const occurrence = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      if (occurrence['type'] !== 'OCCURRENCE') violation('type must be OCCURRENCE');
      if (typeof occurrence['title'] !== 'string' || occurrence['title'] === '') violation('title is required');
      if (typeof occurrence['note'] !== 'string') violation('note must be text');
      if (typeof occurrence['title'] === 'string' && occurrence['title'].startsWith('INVALID')) return { status: 400, json: { title: 'Bad Request', detail: 'title rejected' } };
      const id = nextOccurrence;
      nextOccurrence += 1;
      occurrences.push({ id, body: occurrence });
      return { status: 201, headers: { 'x-pontta-params': String(id) }, json: {} };
    }
    const attach = /^\/api\/file-storage\/OCCURRENCE\/(\d+)$/.exec(url.pathname);
    if (request.method === 'POST' && attach) {
      const parts = parseMultipart(body, request.headers['content-type']);
      const file = parts.find((part) => part.name === 'file');
      if (!String(request.headers['content-type']).startsWith('multipart/form-data')) violation('attachments are multipart/form-data');
      if (!file) violation('multipart field "file" missing');
      if (parts.length !== 1) violation(`expected one part, got ${parts.length}`);
      if (!occurrences.some((o) => String(o.id) === attach[1])) return { status: 404, json: { title: 'Not Found' } };
      attachments.push({ occurrenceId: attach[1]!, filename: file?.filename, contentType: file?.headers['content-type'], bytes: file?.body ?? Buffer.alloc(0) });
      return { status: 200, json: {} };
    }
    return { status: 404, json: { title: 'Not Found' } };
  });
  return Object.assign(base, {
    authUrl: `${base.url}/api/authenticate`,
    baseUrl: `${base.url}/api`,
    email,
    password,
    businessUnit,
    tokens,
    occurrences,
    attachments,
    expireTokenOnce() {
      expireOnce = true;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Google

export interface FakeGoogle extends Base {
  readonly tokenUri: string;
  readonly clientEmail: string;
  /** PEM, generated for this run: a fake secret. */
  readonly privateKey: string;
  readonly accessTokens: string[];
  readonly folders: Array<{ id: string; name: string; parents: string[] }>;
  readonly files: Array<{ id: string; name: string; parents: string[]; mimeType: string | undefined; bytes: Buffer }>;
  readonly rows: Array<{ spreadsheetId: string; range: string; values: unknown[][] }>;
}

export async function startFakeGoogle(): Promise<FakeGoogle> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const verifyKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  const clientEmail = 'flowbot@fake-project.iam.example';
  const accessTokens: string[] = [];
  const folders: FakeGoogle['folders'] = [];
  const files: FakeGoogle['files'] = [];
  const rows: FakeGoogle['rows'] = [];
  let nextId = 1;
  let tokenUri = '';

  const authorized = (request: IncomingMessage, violation: (problem: string) => void) => {
    const token = /^Bearer (.+)$/.exec(String(request.headers['authorization'] ?? ''))?.[1];
    if (!token || !accessTokens.includes(token)) violation('no valid Bearer access token');
  };

  const base = await startFake((request, url, body, violation) => {
    if (url.pathname === '/token') {
      const form = new URLSearchParams(body.toString('utf8'));
      if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') violation('grant_type must be jwt-bearer');
      const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
      const verifier = createVerify('RSA-SHA256');
      verifier.update(`${header}.${payload}`);
      if (!signature || !verifier.verify(verifyKey, Buffer.from(signature, 'base64url'))) violation('assertion signature does not verify');
      const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
      if (claims['iss'] !== clientEmail) violation('iss must be the service account');
      const scope = String(claims['scope'] ?? '');
      if (!scope.includes('auth/drive') || !scope.includes('auth/spreadsheets')) violation(`scope must cover Drive and Sheets, got "${scope}"`);
      if (claims['aud'] !== 'https://oauth2.googleapis.com/token' && claims['aud'] !== tokenUri) violation(`unexpected aud ${String(claims['aud'])}`);
      const token = `ya29.fake-${randomBytes(8).toString('hex')}`;
      accessTokens.push(token);
      return { status: 200, json: { access_token: token, expires_in: 3600, token_type: 'Bearer' } };
    }
    authorized(request, violation);
    if (request.method === 'POST' && url.pathname === '/drive/v3/files') {
      const meta = JSON.parse(body.toString('utf8')) as { name: string; mimeType?: string; parents?: string[] };
      if (meta.mimeType !== 'application/vnd.google-apps.folder') violation('only folders are created without media');
      const id = `folder-${nextId++}`;
      folders.push({ id, name: meta.name, parents: meta.parents ?? [] });
      return { status: 200, json: { id } };
    }
    if (request.method === 'POST' && url.pathname === '/upload/drive/v3/files') {
      if (url.searchParams.get('uploadType') !== 'multipart') violation('uploadType must be multipart');
      if (!String(request.headers['content-type']).startsWith('multipart/related')) violation('upload must be multipart/related');
      const parts = parseMultipart(body, request.headers['content-type']);
      if (parts.length !== 2) violation(`expected metadata and media parts, got ${parts.length}`);
      const meta = JSON.parse(parts[0]?.body.toString('utf8') ?? '{}') as { name: string; parents?: string[] };
      if (!String(parts[0]?.headers['content-type']).startsWith('application/json')) violation('first part must be the JSON metadata');
      const parents = meta.parents ?? [];
      if (!parents.every((parent) => folders.some((folder) => folder.id === parent))) violation('file uploaded into an unknown folder');
      const id = `file-${nextId++}`;
      files.push({ id, name: meta.name, parents, mimeType: parts[1]?.headers['content-type'], bytes: parts[1]?.body ?? Buffer.alloc(0) });
      return { status: 200, json: { id } };
    }
    const append = /^\/v4\/spreadsheets\/([^/]+)\/values\/(.+):append$/.exec(url.pathname);
    if (request.method === 'POST' && append) {
      if (url.searchParams.get('valueInputOption') !== 'USER_ENTERED') violation('valueInputOption must be USER_ENTERED');
      const payload = JSON.parse(body.toString('utf8')) as { values?: unknown[][] };
      if (!Array.isArray(payload.values) || payload.values.length !== 1) violation('one row per append');
      rows.push({ spreadsheetId: append[1]!, range: decodeURIComponent(append[2]!), values: payload.values ?? [] });
      return { status: 200, json: { updates: { updatedRows: 1 } } };
    }
    return { status: 404, json: { error: { message: 'not found' } } };
  });
  tokenUri = `${base.url}/token`;
  return Object.assign(base, { tokenUri, clientEmail, privateKey: pem, accessTokens, folders, files, rows });
}
