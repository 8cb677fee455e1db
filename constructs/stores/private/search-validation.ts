// Validation of AgentSearch props and views, and the small naming helpers of the domain.
import { Names, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import type { ViewConfig } from '../../../contract/view-config';
import * as crypto from 'crypto';
import { indexNameProblem, viewMappings } from '../../../contract/search-mapping';
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

export function validateView(view: ViewConfig, existing: ViewConfig[]): void {
  const where = `AgentSearch.addView('${view.name}')`;
  if (view.store !== 'search' || !view.search) throw new Error(`${where}: the view's store is '${view.store}'; only views with store 'search' and a 'search' config have an index.`);
  const problem = indexNameProblem(view.search.index);
  if (problem) throw new Error(`${where}: search.index '${view.search.index}' ${problem}. Use a lowercase name such as '${view.name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}'.`);
  if (view.fields.length === 0) throw new Error(`${where}: fields is empty; declare the columns the index keeps.`);
  const names = new Set<string>();
  for (const f of view.fields) {
    if (names.has(f.name)) throw new Error(`${where}: field '${f.name}' is declared twice; declare each column once.`);
    names.add(f.name);
  }
  if (view.key.length === 0) throw new Error(`${where}: key is empty; name the primary key columns.`);
  for (const k of view.key) if (!names.has(k)) throw new Error(`${where}: key column '${k}' is not in fields; add it to fields.`);
  if (view.search.timeField && !names.has(view.search.timeField)) throw new Error(`${where}: search.timeField '${view.search.timeField}' is not in fields; add it or remove timeField.`);
  if (existing.some(v => v.name === view.name)) throw new Error(`${where}: a view named '${view.name}' was already added to this domain.`);
  if (existing.some(v => v.search?.index === view.search!.index)) throw new Error(`${where}: search.index '${view.search.index}' is already used by another view; give each view its own index.`);
  // Mapping derivation validates field types, reserved names and the vector config.
  try {
    viewMappings(view);
  } catch (e) {
    throw new Error(`${where}: ${(e as Error).message.replace(/^view '[^']*': /, '')}. Fix the view's declaration.`, { cause: e });
  }
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
