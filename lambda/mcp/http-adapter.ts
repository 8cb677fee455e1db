// Maps Lambda function URL (and API Gateway HTTP API v2) events to Web Requests and Responses back, and serves the same mapping over node:http for tests and local runs.
import * as http from 'http';
import type { AddressInfo } from 'net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

export type FunctionUrlEvent = APIGatewayProxyEventV2;
export type FunctionUrlResult = APIGatewayProxyStructuredResultV2;
export type WebHandler = (request: Request) => Promise<Response>;
export type FunctionUrlHandler = (event: FunctionUrlEvent) => Promise<FunctionUrlResult>;

/** A Web Request carrying the event's method, URL, headers and (decoded) body. */
export function eventToRequest(event: FunctionUrlEvent): Request {
  const host = event.requestContext?.domainName ?? event.headers?.host ?? 'localhost';
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
  const url = `https://${host}${event.rawPath || '/'}${query}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined) headers.set(name, value);
  }
  if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
  const method = event.requestContext?.http?.method ?? 'GET';
  const hasBody = event.body !== undefined && event.body !== null && method !== 'GET' && method !== 'HEAD';
  const body = hasBody ? (event.isBase64Encoded ? Buffer.from(event.body!, 'base64') : event.body!) : undefined;
  return new Request(url, { method, headers, body });
}

/** A function URL result from a Web Response (text bodies as-is, anything else base64). */
export async function responseToResult(response: Response): Promise<FunctionUrlResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie?.() ?? [];
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  const isText = bytes.length === 0 || /^(text\/|application\/(json|.*\+json)|text\/event-stream)/.test(type);
  return {
    statusCode: response.status,
    headers,
    ...(cookies.length ? { cookies } : {}),
    body: isText ? bytes.toString('utf8') : bytes.toString('base64'),
    isBase64Encoded: !isText,
  };
}

/** Wraps a Web handler as a function URL handler. */
export function functionUrlHandler(handler: WebHandler): FunctionUrlHandler {
  return async event => responseToResult(await handler(eventToRequest(event)));
}

/** The function URL event Lambda would deliver for a node:http request (used by the local server). */
export function nodeRequestToEvent(req: http.IncomingMessage, body: Buffer): FunctionUrlEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === 'cookie') continue;
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const method = req.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    cookies: req.headers.cookie ? req.headers.cookie.split(/;\s*/) : undefined,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'local',
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' },
      requestId: `local-${Date.now().toString(36)}`,
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: body.length > 0 ? body.toString('base64') : undefined,
    isBase64Encoded: body.length > 0,
  };
}

export interface LocalServer {
  readonly url: string;
  readonly server: http.Server;
  close(): Promise<void>;
}

/**
 * Serves a function URL handler on 127.0.0.1 (port 0: any free port), converting each request to the
 * event Lambda would deliver: the code path under test is the one that runs in Lambda.
 */
export async function startLocalServer(handler: FunctionUrlHandler, options: { port?: number; maxBodyBytes?: number } = {}): Promise<LocalServer> {
  const maxBody = options.maxBodyBytes ?? 6 * 1024 * 1024; // Lambda's synchronous payload limit
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBody) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      if (tooLarge) {
        res.writeHead(413, { 'content-type': 'application/json' }).end('{"message":"Request Entity Too Large"}');
        return;
      }
      handler(nodeRequestToEvent(req, Buffer.concat(chunks)))
        .then(result => {
          const headers: Record<string, string | string[]> = { ...(result.headers as Record<string, string>) };
          if (result.cookies?.length) headers['set-cookie'] = result.cookies;
          res.writeHead(result.statusCode ?? 200, headers);
          res.end(result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : undefined);
        })
        .catch(() => {
          res.writeHead(502, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
        });
    });
  });
  await new Promise<void>(resolve => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections?.();
      server.close(err => (err ? reject(err) : resolve()));
    }),
  };
}
