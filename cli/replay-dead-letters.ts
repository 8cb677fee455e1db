// `agent-data-stack replay-dead-letters`: finds a deployed sink's dead-letter bucket and function, and replays the letters through that function.
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { listStackResources } from './stack-resources';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { MskEvent } from '../lambda/shared/envelope';
import type { BatchSummary } from '../lambda/sink/process';

export interface SinkResources {
  readonly bucket: string;
  readonly functionName: string;
}

/**
 * The dead-letter bucket and sink function of a stack composed by AgentDataStack (construct id `Sink`, so logical ids
 * `SinkDeadLetterBucket...` and `SinkFunction...`). `sinkId` names another AgentSink's construct id.
 */
export async function findSinkResources(cfn: CloudFormationClient, stackName: string, sinkId = 'Sink'): Promise<SinkResources> {
  const resources = await listStackResources(cfn, stackName);
  const find = (type: string, prefix: string) => resources.find(r => r.ResourceType === type && r.LogicalResourceId?.startsWith(prefix)
    && /^[0-9A-F]{8}$/.test(r.LogicalResourceId.slice(prefix.length)))?.PhysicalResourceId;
  const bucket = find('AWS::S3::Bucket', `${sinkId}DeadLetterBucket`);
  const functionName = find('AWS::Lambda::Function', `${sinkId}Function`);
  const queue = find('AWS::SQS::Queue', `${sinkId}DeadLetterQueue`);
  if (!bucket && queue) {
    // Queue letters lose their value (then key) over 256 KiB, and the queue is not read here: say what works instead of asking for a bucket.
    throw new Error(`Stack '${stackName}': sink '${sinkId}' dead-letters to an SQS queue (${queue}, SinkDeadLetter.queue()); replay-dead-letters replays only `
      + 'a dead-letter bucket\'s letters. Each message names the view, topic, partition and offset: after the fix, re-read the affected rows with '
      + '`agent-data-stack resnapshot --view V` (or reset the sink\'s consumer group to the offsets while the topic retains them), then delete the messages. '
      + 'Use SinkDeadLetter.bucket() for replayable letters.');
  }
  if (!bucket || !functionName) {
    throw new Error(`Stack '${stackName}' has no ${!bucket ? 'dead-letter bucket' : 'sink function'} of a sink '${sinkId}' (an AgentSink with SinkDeadLetter.bucket()). Pass --bucket and --function for a sink composed differently.`);
  }
  return { bucket, functionName };
}

/** Invokes the deployed sink function with one MSK-shaped batch (Lambda Invoke, RequestResponse, SigV4-signed). */
export function lambdaDeliver(functionName: string, region: string): (event: MskEvent) => Promise<BatchSummary> {
  const signer = new SignatureV4({ service: 'lambda', region, credentials: defaultProvider(), sha256: Sha256 });
  const hostname = `lambda.${region}.amazonaws.com`;
  return async (event) => {
    const request = await signer.sign(new HttpRequest({
      method: 'POST', protocol: 'https:', hostname,
      path: `/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
      headers: { 'host': hostname, 'content-type': 'application/json', 'x-amz-invocation-type': 'RequestResponse' },
      body: JSON.stringify(event),
    }));
    const response = await fetch(`https://${hostname}${request.path}`, { method: 'POST', headers: request.headers, body: request.body as string });
    const text = await response.text();
    if (!response.ok) throw new Error(`Lambda Invoke of ${functionName} returned HTTP ${response.status}: ${text}`);
    if (response.headers.get('x-amz-function-error')) throw new Error(`The sink failed the replayed batch (nothing was lost; fix the cause and replay again): ${text}`);
    return JSON.parse(text) as BatchSummary;
  };
}
