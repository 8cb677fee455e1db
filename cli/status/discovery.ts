// Finds a deployed stack's resources from its CloudFormation outputs: ARNs sorted by service, plus the operations manifest.
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { OPERATIONS_MANIFEST_OUTPUT, OperationsManifest, parseOperationsManifest } from '../../contract/operations-manifest';
import { UserError } from '../command';

/** Resources of the stack, found from its outputs (values that are ARNs of the services below). */
export interface StackResources {
  readonly kafkaClusters: string[];
  readonly connectors: string[];
  readonly flinkApplications: string[];
  readonly serverlessCaches: string[];
  readonly replicationGroups: string[];
  readonly searchDomains: string[];
  readonly metricsNamespace?: string;
  /** The `OperationsManifest` output (stacks from this version on). */
  readonly manifest?: OperationsManifest;
}

/** Reads the stack's outputs and sorts the ARNs it recognizes by service. */
export async function discoverResources(cfn: CloudFormationClient, stackName: string): Promise<StackResources> {
  let outputs: Output[];
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = out.Stacks?.[0]?.Outputs ?? [];
  } catch (e) {
    if (/does not exist/.test(String((e as Error).message))) {
      throw new UserError(`Stack '${stackName}' does not exist in this account and region. Pass --stack NAME, or set AWS_REGION / AWS_PROFILE to where it is deployed.`);
    }
    throw e;
  }
  return classifyOutputs(outputs);
}

export function classifyOutputs(outputs: Output[]): StackResources {
  const r = {
    kafkaClusters: [] as string[], connectors: [] as string[], flinkApplications: [] as string[],
    serverlessCaches: [] as string[], replicationGroups: [] as string[], searchDomains: [] as string[],
  };
  let metricsNamespace: string | undefined;
  let manifest: OperationsManifest | undefined;
  for (const o of outputs) {
    const v = o.OutputValue ?? '';
    if (o.OutputKey?.endsWith('MetricsNamespace')) metricsNamespace = v;
    if (o.OutputKey === OPERATIONS_MANIFEST_OUTPUT) manifest = parseOperationsManifest(v);
    const arn = /^arn:[^:]+:([^:]+):[^:]*:[^:]*:(.+)$/.exec(v);
    if (!arn) continue;
    const [, service, resource] = arn;
    const add = (list: string[], value: string) => { if (!list.includes(value)) list.push(value); };
    if (service === 'kafka' && resource.startsWith('cluster/')) add(r.kafkaClusters, v);
    else if (service === 'kafkaconnect' && resource.startsWith('connector/')) add(r.connectors, v);
    else if (service === 'kinesisanalytics' && resource.startsWith('application/')) add(r.flinkApplications, resource.slice('application/'.length));
    else if (service === 'elasticache' && resource.startsWith('serverlesscache:')) add(r.serverlessCaches, resource.slice('serverlesscache:'.length));
    else if (service === 'elasticache' && resource.startsWith('replicationgroup:')) add(r.replicationGroups, resource.slice('replicationgroup:'.length));
    else if (service === 'es' && resource.startsWith('domain/')) add(r.searchDomains, resource.slice('domain/'.length));
  }
  return { ...r, metricsNamespace, ...(manifest ? { manifest } : {}) };
}
