// Validation of AgentSearch props and views, and the small naming helpers of the domain.
import { Names, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import type { ViewConfig } from '../../../contract/view-config';
import * as crypto from 'crypto';
import type { AgentSearchProps } from '../agent-search';

export function validateProps(props: AgentSearchProps, azCount: number, dataNodes: number, masters: number): void {
  if (![1, 2, 3].includes(azCount)) {
    throw new Error(`AgentSearch: availabilityZoneCount is ${azCount}; use 2 or 3 (zone awareness), or 1 to disable it.`);
  }
  if (!Number.isInteger(dataNodes) || dataNodes < 1) throw new Error(`AgentSearch: dataNodes is ${dataNodes}; use a positive integer.`);
  if (azCount > 1 && dataNodes % azCount !== 0) {
    throw new Error(`AgentSearch: dataNodes is ${dataNodes} with availabilityZoneCount ${azCount}; zone awareness needs a multiple of ${azCount} data nodes.`);
  }
  if (![0, 3, 5].includes(masters)) throw new Error(`AgentSearch: dedicatedMasterNodes is ${masters}; use 3 or 5, or 0 for none.`);
  if (props.domainName !== undefined && !Token.isUnresolved(props.domainName) && !/^[a-z][a-z0-9-]{2,27}$/.test(props.domainName)) {
    throw new Error(`AgentSearch: domainName '${props.domainName}' is invalid; use 3-28 lowercase letters, digits or hyphens, starting with a letter.`);
  }
  if (props.volumeSize !== undefined && (!Number.isInteger(props.volumeSize) || props.volumeSize < 10)) {
    throw new Error(`AgentSearch: volumeSize is ${props.volumeSize}; use an integer of at least 10 (GiB).`);
  }
}

/**
 * What a domain checks of a view it indexes: that it is a search view and that its name and index are free on this
 * domain. The view's own rules (fields, key, index name, mapping) were checked once, when its AgentView was created.
 */
export function validateIndexView(view: ViewConfig, existing: readonly ViewConfig[]): void {
  const where = `AgentSearch.addView('${view.name}')`;
  if (view.store !== 'search' || !view.search) throw new Error(`${where}: the view's store is '${view.store}'; only views with store 'search' and a 'search' config have an index.`);
  if (existing.some(v => v.name === view.name)) throw new Error(`${where}: a view named '${view.name}' was already added to this domain.`);
  if (existing.some(v => v.search?.index === view.search!.index)) throw new Error(`${where}: search.index '${view.search.index}' is already used by another view; give each view its own index.`);
}

/** 3-28 chars, lowercase, starting with a letter, unique per construct path and stable across synths. */
export function defaultDomainName(scope: IConstruct): string {
  const unique = Names.uniqueResourceName(scope, { maxLength: 64, separator: '' }).toLowerCase().replace(/[^a-z0-9]/g, '');
  const hash = crypto.createHash('sha256').update(scope.node.path).digest('hex').slice(0, 8);
  return `a${unique.slice(0, 18)}${hash}`.slice(0, 28);
}

export function principalArn(principal: iam.IPrincipal): string {
  const p = principal as iam.IPrincipal & { roleArn?: string; arn?: string };
  if (p.roleArn) return p.roleArn;
  if (p.arn) return p.arn;
  throw new Error('AgentSearch: a grantee must be an IAM role (or ArnPrincipal) so it can be mapped to an OpenSearch FGAC backend role.');
}

export function isConnectable(x: unknown): x is ec2.IConnectable {
  return typeof x === 'object' && x !== null && 'connections' in x;
}

/**
 * Why the domain's engine cannot hold the view's vector field, or undefined. The mapping uses the k-NN plugin's Faiss
 * engine, which takes `cosinesimil` from OpenSearch 2.19 (opensearch-project/k-NN#2376, released in 2.19.0);
 * Elasticsearch domains have no Faiss engine.
 */
export function vectorEngineProblem(view: ViewConfig, engineVersion: string): string | undefined {
  const vector = view.search?.vector;
  if (!vector || Token.isUnresolved(engineVersion)) return undefined;
  const m = /^OpenSearch_(\d+)\.(\d+)$/.exec(engineVersion);
  if (!m) return `search.vector needs an OpenSearch engine (the Faiss k-NN engine), but engineVersion is ${engineVersion}; use OpenSearch 2.19 or later`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (vector.spaceType === 'cosinesimil' && (major < 2 || (major === 2 && minor < 19))) {
    return `search.vector.spaceType 'cosinesimil' needs OpenSearch 2.19 or later on the Faiss engine, but engineVersion is ${engineVersion}; `
      + "raise engineVersion, or use spaceType 'innerproduct' (the same ranking for Titan's unit-length vectors)";
  }
  return undefined;
}
