// The MCP server's own OpenSearch reader (lambda/mcp/search-reader.ts) against the node:http stand-in: the exact requests, a
// SigV4 signature recomputed and compared, 404 ignored only when asked, errors named like the OpenSearch client's, timeouts.
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { documentId } from '../../contract/stored-record';
import { errorKind } from '../../lambda/mcp/errors';
import { SearchResponseError, signedSearchReader } from '../../lambda/mcp/search-reader';
import { OpenSearchStandIn, record } from './support';

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const opensearch = new OpenSearchStandIn();
let reader: ReturnType<typeof signedSearchReader>;

beforeAll(async () => {
  await opensearch.start();
  opensearch.seed('tickets', ['ticket_id'], record('tickets', 'public.tickets', { ticket_id: 'T/1 ü' }, { ticket_id: 'T/1 ü', subject: 'Refund' }, Date.now(), 3));
  reader = signedSearchReader({ endpoint: opensearch.url, region: 'eu-west-1', credentials: async () => CREDENTIALS });
});
afterAll(() => opensearch.stop());
beforeEach(() => {
  opensearch.requests.length = 0;
});

test('_search: the body as given, POSTed to the index, answered as parsed JSON', async () => {
  const body = { size: 5, query: { match_all: {} } };
  const res = await reader.search({ index: 'tickets', body }, { requestTimeout: 2000 });
  expect(opensearch.requests).toEqual([expect.objectContaining({ method: 'POST', path: '/tickets/_search', body })]);
  expect((res.body as any).hits.hits[0]._source.subject).toBe('Refund');
});

test('every request carries a SigV4 signature for the es service that verifies', async () => {
  await reader.search({ index: 'tickets', body: { size: 1 } });
  const req = opensearch.requests[0];
  const auth = String(req.headers.authorization);
  const m = /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/eu-west-1\/es\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  expect(m).not.toBeNull();
  const [, , signedHeaders, signature] = m!;
  expect(signedHeaders.split(';')).toEqual(expect.arrayContaining(['host', 'x-amz-date', 'content-type']));
  const amzDate = String(req.headers['x-amz-date']);
  const date = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = String(req.headers[name]);
  const [hostname, port] = headers.host.split(':');
  const expected = await new SignatureV4({ service: 'es', region: 'eu-west-1', credentials: CREDENTIALS, sha256: Sha256 }).sign(new HttpRequest({
    method: 'POST', protocol: 'http:', hostname, port: Number(port), path: '/tickets/_search', headers, body: JSON.stringify({ size: 1 }),
  }), { signingDate: date });
  expect(/Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization))?.[1]).toBe(signature);
});

test('_doc: the id path-encoded, _source_includes as a query parameter, 404 ignored when asked', async () => {
  const id = documentId(['ticket_id'], { ticket_id: 'T/1 ü' });
  const found = await reader.get({ index: 'tickets', id, _source_includes: ['subject', '_provenance'] }, { ignore: [404] });
  expect(opensearch.requests[0].path).toBe(`/tickets/_doc/${encodeURIComponent(id)}?_source_includes=subject%2C_provenance`);
  expect(found.body).toMatchObject({ found: true });
  const missing = await reader.get({ index: 'tickets', id: 'nope' }, { ignore: [404] });
  expect(missing.body).toMatchObject({ found: false });
});

test('a refused request is a ResponseError with its status; a 404 not ignored too', async () => {
  opensearch.failNext = { status: 500, body: '{"error":"boom"}' };
  const error = await reader.search({ index: 'tickets', body: {} }).catch(e => e);
  expect(error).toBeInstanceOf(SearchResponseError);
  expect(errorKind(error)).toBe('ResponseError 500');
  expect(error.meta.body).toEqual({ error: 'boom' });
  await expect(reader.get({ index: 'tickets', id: 'nope' })).rejects.toMatchObject({ statusCode: 404 });
});

test('a request slower than its timeout is aborted', async () => {
  opensearch.delayNextMs = 1500;
  await expect(reader.search({ index: 'tickets', body: {} }, { requestTimeout: 200 })).rejects.toMatchObject({ name: 'TimeoutError' });
});
