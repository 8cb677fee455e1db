// Verifies JWT access tokens with node:crypto against the issuer's JWKS (discovered from its metadata, cached per container):
// signature, issuer, audience (RFC 8707), expiry; no dependency beyond the runtime, so the bundle stays small.
import { constants, createPublicKey, verify, type KeyObject } from 'crypto';

/** Why a token was refused; `kind: 'unavailable'` means the keys could not be fetched (a server-side failure). */
export class TokenError extends Error {
  constructor(message: string, public readonly kind: 'invalid' | 'unavailable' = 'invalid') {
    super(message);
    this.name = 'TokenError';
  }
}

export interface JwtVerifierOptions {
  /** Required `iss`, compared exactly. */
  readonly issuer: string;
  /** Accepted `aud` values; tokens without `aud` are matched by `client_id` (Cognito access tokens, as API Gateway's JWT authorizer does). */
  readonly audience: readonly string[];
  /** @default - discovered from the issuer's OpenID Connect or RFC 8414 metadata */
  readonly jwksUri?: string;
  /** Seconds of clock skew tolerated on `exp` and `nbf`. @default 60 */
  readonly clockSkewSeconds?: number;
  /** Seconds between refetches of the key set when a token names an unknown key. @default 30 */
  readonly refetchIntervalSeconds?: number;
  /** @default 3000 */
  readonly fetchTimeoutMs?: number;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

export interface VerifiedToken {
  readonly claims: Record<string, unknown>;
  readonly scopes: string[];
  /** `exp` in epoch seconds. */
  readonly expiresAt: number;
}

/** Signature algorithms accepted: asymmetric only (`none` and HMAC would let anyone who knows the config mint tokens). */
const ALGORITHMS: Record<string, { hash: string; kty: string; pss?: boolean }> = {
  RS256: { hash: 'sha256', kty: 'RSA' }, RS384: { hash: 'sha384', kty: 'RSA' }, RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true }, PS384: { hash: 'sha384', kty: 'RSA', pss: true }, PS512: { hash: 'sha512', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC' }, ES384: { hash: 'sha384', kty: 'EC' }, ES512: { hash: 'sha512', kty: 'EC' },
};

const FAILURE_BACKOFF_MS = 5000;

interface Jwk { kid?: string; kty?: string; use?: string; alg?: string; [k: string]: unknown }

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch { /* fall through */ }
  throw new TokenError(`The token's ${what} is not a JSON object.`);
}

export function scopesOf(claims: Record<string, unknown>): string[] {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  return Array.isArray(raw) ? raw.filter((s): s is string => typeof s === 'string') : [];
}

export class JwtVerifier {
  private keys = new Map<string, KeyObject>();
  private unnamed: KeyObject[] = [];
  private fetchedAt = 0;
  private loading?: Promise<void>;
  private jwksUri?: string;
  private failure?: { at: number; error: TokenError };

  constructor(private readonly options: JwtVerifierOptions) {
    this.jwksUri = options.jwksUri;
  }

  async verify(token: string): Promise<VerifiedToken> {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some(p => p.length === 0 || !/^[A-Za-z0-9_-]+$/.test(p))) throw new TokenError('The token is not a signed JWT (three base64url parts).');
    const header = decodeJson(parts[0], 'header');
    const alg = ALGORITHMS[String(header.alg)];
    if (!alg) throw new TokenError(`The token's algorithm '${String(header.alg)}' is not accepted; expected one of ${Object.keys(ALGORITHMS).join(', ')}.`);
    const key = await this.keyFor(typeof header.kid === 'string' ? header.kid : undefined);
    const type = key.asymmetricKeyType;
    if (alg.kty === 'EC' ? type !== 'ec' : type !== 'rsa' && type !== 'rsa-pss') throw new TokenError('The token\'s algorithm does not match its key.');
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    const signature = Buffer.from(parts[2], 'base64url');
    let ok: boolean;
    try {
      ok = verify(alg.hash, signed, alg.kty === 'EC'
        ? { key, dsaEncoding: 'ieee-p1363' }
        // RFC 7518 section 3.5: the PSS salt is as long as the hash.
        : alg.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: { sha256: 32, sha384: 48, sha512: 64 }[alg.hash as 'sha256'] } : key, signature);
    } catch {
      ok = false; // a curve that does not fit the algorithm, a malformed signature
    }
    if (!ok) throw new TokenError('The token\'s signature does not verify against the issuer\'s keys.');
    return this.checkClaims(decodeJson(parts[1], 'payload'));
  }

  private checkClaims(claims: Record<string, unknown>): VerifiedToken {
    const now = Math.floor((this.options.now?.() ?? Date.now()) / 1000);
    const skew = this.options.clockSkewSeconds ?? 60;
    if (claims.iss !== this.options.issuer) throw new TokenError('The token was issued by another issuer.');
    if (typeof claims.exp !== 'number') throw new TokenError('The token has no expiry (exp).');
    if (claims.exp + skew <= now) throw new TokenError('The token has expired.');
    if (typeof claims.nbf === 'number' && claims.nbf - skew > now) throw new TokenError('The token is not valid yet (nbf).');
    // An OpenID Connect ID token proves a sign-in to the client, not access to this resource.
    if (claims.token_use === 'id') throw new TokenError('The token is an ID token; send an access token.');
    const aud = claims.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    const matched = aud !== undefined
      ? audiences.some(a => this.options.audience.includes(a))
      : typeof claims.client_id === 'string' && this.options.audience.includes(claims.client_id);
    if (!matched) throw new TokenError('The token was not issued for this resource (audience).');
    return { claims, scopes: scopesOf(claims), expiresAt: claims.exp };
  }

  private async keyFor(kid: string | undefined): Promise<KeyObject> {
    const find = () => (kid !== undefined ? this.keys.get(kid) : this.keys.size + this.unnamed.length === 1 ? [...this.keys.values(), ...this.unnamed][0] : undefined);
    let key = find();
    const interval = (this.options.refetchIntervalSeconds ?? 30) * 1000;
    // Unknown key: the issuer may have rotated; refetch, but not more often than the interval (a stream of bogus kids must not hammer the issuer).
    if (!key && (this.fetchedAt === 0 || Date.now() - this.fetchedAt >= interval)) {
      // After a failed fetch, answer "unavailable" for a few seconds instead of calling the issuer on every request.
      if (this.failure && Date.now() - this.failure.at < FAILURE_BACKOFF_MS) throw this.failure.error;
      this.loading ??= this.load().then(() => { this.failure = undefined; }, error => {
        this.failure = { at: Date.now(), error: error instanceof TokenError ? error : new TokenError(`The issuer's keys could not be read (${(error as Error).name}).`, 'unavailable') };
        throw this.failure.error;
      }).finally(() => { this.loading = undefined; });
      await this.loading;
      key = find();
    }
    if (!key) throw new TokenError(kid ? `The token's key '${kid}' is not among the issuer's keys.` : 'The token names no key (kid) and the issuer has several.');
    return key;
  }

  private async getJson(url: string): Promise<Record<string, unknown>> {
    const f = this.options.fetch ?? fetch;
    let res: Response;
    try {
      res = await f(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.options.fetchTimeoutMs ?? 3000) });
    } catch (error) {
      throw new TokenError(`The issuer's keys could not be fetched from ${url} (${(error as Error).name}).`, 'unavailable');
    }
    if (!res.ok) throw new TokenError(`The issuer's keys could not be fetched from ${url} (HTTP ${res.status}).`, 'unavailable');
    const body = await res.json().catch(() => undefined);
    if (!body || typeof body !== 'object') throw new TokenError(`${url} did not answer with JSON.`, 'unavailable');
    return body as Record<string, unknown>;
  }

  /** OpenID Connect discovery (`<issuer>/.well-known/openid-configuration`), then RFC 8414 with path insertion. */
  private async discoverJwksUri(): Promise<string> {
    const issuer = this.options.issuer.replace(/\/$/, '');
    const url = new URL(this.options.issuer);
    const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
    let lastError: unknown;
    for (const candidate of [`${issuer}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`]) {
      try {
        const metadata = await this.getJson(candidate);
        // OpenID Connect Discovery section 4.3 and RFC 8414 section 3.3: the document must name the issuer it was fetched for.
        if (metadata.issuer !== this.options.issuer) throw new TokenError(`${candidate} names issuer '${String(metadata.issuer)}', not '${this.options.issuer}'.`, 'unavailable');
        if (typeof metadata.jwks_uri !== 'string') throw new TokenError(`${candidate} has no jwks_uri.`, 'unavailable');
        return metadata.jwks_uri;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }

  private async load(): Promise<void> {
    this.jwksUri ??= await this.discoverJwksUri();
    const jwks = await this.getJson(this.jwksUri);
    const keys = new Map<string, KeyObject>();
    const unnamed: KeyObject[] = [];
    for (const jwk of Array.isArray(jwks.keys) ? (jwks.keys as Jwk[]) : []) {
      if (jwk.use !== undefined && jwk.use !== 'sig') continue;
      if (jwk.kty !== 'RSA' && jwk.kty !== 'EC') continue;
      try {
        const key = createPublicKey({ key: jwk as any, format: 'jwk' });
        if (jwk.kid !== undefined) keys.set(jwk.kid, key);
        else unnamed.push(key);
      } catch { /* a key this runtime cannot read is skipped, not fatal */ }
    }
    this.keys = keys;
    this.unnamed = unnamed;
    this.fetchedAt = Date.now();
  }
}
