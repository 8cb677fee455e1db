// Reads the views' configuration from its environment variable: plain JSON, or the compact gzip+base64 form the
// constructs write for large configurations (constructs/common/private/environment-size.ts).
import { gunzipSync } from 'zlib';
import { GZIP_VALUE_PREFIX as GZIP_PREFIX, parseViewsEnv, type ViewConfig } from '../../contract/view-config';

/** The JSON text of an environment value in either form. */
export function expandJsonValue(raw: string): string {
  return raw.startsWith(GZIP_PREFIX) ? gunzipSync(Buffer.from(raw.slice(GZIP_PREFIX.length), 'base64')).toString('utf8') : raw;
}

/** The views of `AGENT_VIEWS` in either form. */
export function readViewsEnv(raw: string | undefined): ViewConfig[] {
  return parseViewsEnv(raw === undefined ? undefined : expandJsonValue(raw));
}
