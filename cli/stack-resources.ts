// The resources of a deployed stack, every page of ListStackResources: the one way the CLI commands find what a stack created.
import { CloudFormationClient, ListStackResourcesCommand, type StackResourceSummary } from '@aws-sdk/client-cloudformation';

export async function listStackResources(cfn: CloudFormationClient, stackName: string): Promise<StackResourceSummary[]> {
  const resources: StackResourceSummary[] = [];
  let token: string | undefined;
  do {
    const page = await cfn.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token }));
    resources.push(...page.StackResourceSummaries ?? []);
    token = page.NextToken;
  } while (token);
  return resources;
}
