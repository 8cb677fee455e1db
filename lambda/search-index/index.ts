// Custom resource handler (Provider framework onEvent) for AgentSearch: view indexes (Custom::AgentSearchIndex) and FGAC role mappings (Custom::AgentSearchAccess).
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { Client } from '@opensearch-project/opensearch';
import { createSearchClient } from '../shared/search-client';
import { applyAccessRoles, deleteAccessRoles, enableAuditLog, ensureIndex, deleteIndex, type AccessRole, type BlockRetryOptions, type IndexSpec } from './operations';

export interface HandlerResponse {
  readonly PhysicalResourceId: string;
  readonly Data?: Record<string, string>;
}

interface IndexProps {
  readonly Endpoint: string;
  readonly Alias: string;
  readonly Index: string;
  readonly Mappings: string;
  readonly StaticSettings: string;
  readonly DynamicSettings: string;
  readonly RemoveOnDelete?: string;
}

interface AccessProps {
  readonly Endpoint: string;
  readonly Roles?: Array<{ Name: string; ClusterPermissions: string[]; IndexPatterns: string[]; AllowedActions: string[]; BackendRoles: string[] }>;
  readonly AuditLog?: string;
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<HandlerResponse> {
  const endpoint = (event.ResourceProperties as unknown as { Endpoint: string }).Endpoint;
  const client = createSearchClient({ endpoint, region: process.env.AWS_REGION ?? '', requestTimeoutMs: 30_000 });
  return onEvent(client, event);
}

/** Dispatches one CloudFormation event; takes the client so tests run it against a stand-in domain. */
export async function onEvent(client: Client, event: CloudFormationCustomResourceEvent, retry: BlockRetryOptions = {}): Promise<HandlerResponse> {
  switch (event.ResourceType) {
    case 'Custom::AgentSearchIndex':
      return onIndexEvent(client, event, retry);
    case 'Custom::AgentSearchAccess':
      return onAccessEvent(client, event);
    default:
      throw new Error(`unsupported resource type ${event.ResourceType}`);
  }
}

function indexSpec(props: IndexProps, event: CloudFormationCustomResourceEvent): IndexSpec {
  return {
    owner: `${event.StackId}/${event.LogicalResourceId}`,
    alias: props.Alias,
    index: props.Index,
    mappings: JSON.parse(props.Mappings),
    staticSettings: JSON.parse(props.StaticSettings),
    dynamicSettings: JSON.parse(props.DynamicSettings),
  };
}

async function onIndexEvent(client: Client, event: CloudFormationCustomResourceEvent, retry: BlockRetryOptions): Promise<HandlerResponse> {
  const props = event.ResourceProperties as unknown as IndexProps;
  // The alias is the identity: a new alias makes CloudFormation delete the old resource (which keeps its data unless opted in).
  const physicalId = props.Alias;
  if (event.RequestType === 'Delete') {
    if (props.RemoveOnDelete === 'true') await deleteIndex(client, indexSpec(props, event), retry);
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const result = await ensureIndex(client, indexSpec(props, event), retry);
  return {
    PhysicalResourceId: physicalId,
    Data: { Index: props.Index, Alias: props.Alias, Created: String(result.created), AddedFields: result.addedFields.join(',') },
  };
}

function accessRoles(props: AccessProps | undefined): AccessRole[] {
  return (props?.Roles ?? []).map(r => ({
    name: r.Name,
    clusterPermissions: r.ClusterPermissions,
    indexPatterns: r.IndexPatterns,
    allowedActions: r.AllowedActions,
    backendRoles: r.BackendRoles,
  }));
}

async function onAccessEvent(client: Client, event: CloudFormationCustomResourceEvent): Promise<HandlerResponse> {
  const props = event.ResourceProperties as unknown as AccessProps;
  if (event.RequestType === 'Delete') {
    await deleteAccessRoles(client, accessRoles(props));
    return { PhysicalResourceId: event.PhysicalResourceId };
  }
  const previous = event.RequestType === 'Update' ? accessRoles(event.OldResourceProperties as unknown as AccessProps) : [];
  await applyAccessRoles(client, accessRoles(props), previous);
  if (props.AuditLog === 'true') await enableAuditLog(client);
  return { PhysicalResourceId: `${props.Endpoint}/access` };
}
