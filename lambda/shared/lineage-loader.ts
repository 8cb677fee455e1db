// Loads the lineage catalog the governance layer stored (SSM parameters named in AGENT_LINEAGE_CATALOG), verifies its digest, and caches it per container.
import { createHash } from 'crypto';
import { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { LINEAGE_CATALOG_ENV, type LineageCatalog } from '../../contract/lineage';

export interface CatalogLocation {
  readonly parameterNames: string[];
  /** SHA-256 hex of the catalog JSON. */
  readonly digest: string;
}

/** Parses `ssm:<name>,<name>#<sha256>`. Inline JSON (`{...}`) is accepted too, for local runs and tests. */
export function parseCatalogLocation(value: string | undefined): CatalogLocation | LineageCatalog {
  if (!value) throw new Error(`${LINEAGE_CATALOG_ENV} is not set: the function was deployed without the lineage catalog (AgentLineageCatalog.environment()).`);
  if (value.trimStart().startsWith('{')) return JSON.parse(value) as LineageCatalog;
  const m = /^ssm:([^#]+)#([0-9a-f]{64})$/.exec(value);
  if (!m) throw new Error(`${LINEAGE_CATALOG_ENV} must look like 'ssm:<parameter>[,<parameter>...]#<sha256>', got '${value.slice(0, 80)}'`);
  return { parameterNames: m[1].split(','), digest: m[2] };
}

/** Reads the parameters in order, joins them and checks the digest. */
export async function loadCatalog(ssm: SSMClient, location: CatalogLocation): Promise<LineageCatalog> {
  const byName = new Map<string | undefined, string>();
  // GetParameters takes at most 10 names per call.
  for (let i = 0; i < location.parameterNames.length; i += 10) {
    const out = await ssm.send(new GetParametersCommand({ Names: location.parameterNames.slice(i, i + 10) }));
    if (out.InvalidParameters?.length) {
      throw new Error(`lineage catalog parameters not found: ${out.InvalidParameters.join(', ')}. Redeploy the stack that owns the catalog.`);
    }
    for (const p of out.Parameters ?? []) byName.set(p.Name, p.Value ?? '');
  }
  const json = location.parameterNames.map(n => {
    const v = byName.get(n);
    if (v === undefined) throw new Error(`lineage catalog parameter ${n} was not returned`);
    return v;
  }).join('');
  const digest = createHash('sha256').update(json).digest('hex');
  if (digest !== location.digest) {
    throw new Error(`lineage catalog digest mismatch (expected ${location.digest.slice(0, 12)}, read ${digest.slice(0, 12)}): the catalog is being updated; retry.`);
  }
  const catalog = JSON.parse(json) as LineageCatalog;
  if (catalog.version !== 1) throw new Error(`lineage catalog version ${String(catalog.version)} is not supported (expected 1)`);
  return catalog;
}

let cached: { key: string; catalog: Promise<LineageCatalog> } | undefined;

/**
 * The catalog named by `AGENT_LINEAGE_CATALOG`, loaded once per container (the catalog only changes with a deployment,
 * which also changes the environment). A failed load is not cached.
 */
export function loadCatalogFromEnv(ssm: SSMClient = new SSMClient({}), env: Record<string, string | undefined> = process.env): Promise<LineageCatalog> {
  const raw = env[LINEAGE_CATALOG_ENV];
  if (cached && cached.key === raw) return cached.catalog;
  const location = parseCatalogLocation(raw);
  const catalog = 'parameterNames' in location ? loadCatalog(ssm, location) : Promise.resolve(location);
  const entry = { key: raw ?? '', catalog };
  cached = entry;
  catalog.catch(() => {
    if (cached === entry) cached = undefined;
  });
  return catalog;
}

/** Forgets the cached catalog (tests). */
export function resetCatalogCache(): void {
  cached = undefined;
}
