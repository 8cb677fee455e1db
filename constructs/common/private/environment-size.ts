// Lambda's 4 KB environment limit, checked at synth the way Lambda measures it (the JSON of the variables, so quotes inside
// a value count twice), and the compact form of a large JSON value (gzip, base64) the handlers read back
// (lambda/shared/views-env.ts). https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html
import { Token } from 'aws-cdk-lib';
import { gzipSync } from 'zlib';
import { GZIP_VALUE_PREFIX } from '../../../contract/view-config';

/** Lambda's limit on all of a function's environment variables together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** What an unresolved value (an endpoint, an ARN, a name CloudFormation fills in) is counted as: longer than any of ours. */
export const UNRESOLVED_VALUE_ESTIMATE_BYTES = 128;
/** Prefix of a gzip+base64 value (defined once, in the contract the handlers read it by). */
export const GZIP_PREFIX = GZIP_VALUE_PREFIX;

/** The environment's size as Lambda measures it, with each unresolved value counted as UNRESOLVED_VALUE_ESTIMATE_BYTES. */
export function estimatedEnvironmentBytes(variables: Record<string, string>): number {
  const counted: Record<string, string> = {};
  for (const [k, v] of Object.entries(variables)) counted[k] = Token.isUnresolved(v) ? 'x'.repeat(UNRESOLVED_VALUE_ESTIMATE_BYTES) : v;
  return Buffer.byteLength(JSON.stringify(counted));
}

/**
 * A JSON value for an environment variable: as is when small or when it holds tokens (CloudFormation must see them),
 * else gzip+base64 behind GZIP_PREFIX, about a third of the size for view configurations.
 */
export function compactJsonValue(json: string, plainUpTo = 1024): string {
  if (Token.isUnresolved(json) || Buffer.byteLength(json) <= plainUpTo) return json;
  return GZIP_PREFIX + gzipSync(Buffer.from(json, 'utf8'), { level: 9 }).toString('base64');
}
