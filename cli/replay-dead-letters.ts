// `agent-data-stack replay-dead-letters`: finds a deployed sink's dead-letter bucket or queue and function, replays the letters through that function, and reports.
import { Sha256 } from '@aws-crypto/sha256-js';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { listStackResources } from './stack-resources';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { MskEvent } from '../lambda/shared/envelope';
import type { BatchSummary } from '../lambda/sink/process';
import type { ReplaySummary } from '../lambda/sink/replay';
import type { QueueReplaySummary } from '../lambda/sink/replay-queue';
import type { CliIo } from './command';

/** The sink function and its dead-letter destination: a bucket (SinkDeadLetter.bucket()) or a queue URL (SinkDeadLetter.queue()). */
export interface SinkResources {
  readonly functionName: string;
  readonly bucket?: string;
  readonly queueUrl?: string;
}

/**
 * The dead-letter bucket or queue and sink function of a stack composed by AgentDataStack (construct id `Sink`, so logical
 * ids `SinkDeadLetterBucket...`, `SinkDeadLetterQueue...` and `SinkFunction...`). `sinkId` names another AgentSink's
 * construct id. A queue's physical id is its URL.
 */
export async function findSinkResources(cfn: CloudFormationClient, stackName: string, sinkId = 'Sink'): Promise<SinkResources> {
  const resources = await listStackResources(cfn, stackName);
  const find = (type: string, prefix: string) => resources.find(r => r.ResourceType === type && r.LogicalResourceId?.startsWith(prefix)
    && /^[0-9A-F]{8}$/.test(r.LogicalResourceId.slice(prefix.length)))?.PhysicalResourceId;
  const bucket = find('AWS::S3::Bucket', `${sinkId}DeadLetterBucket`);
  const functionName = find('AWS::Lambda::Function', `${sinkId}Function`);
  const queueUrl = find('AWS::SQS::Queue', `${sinkId}DeadLetterQueue`);
  if ((!bucket && !queueUrl) || !functionName) {
    throw new Error(`Stack '${stackName}' has no ${!bucket && !queueUrl ? 'dead-letter bucket or queue' : 'sink function'} of a sink '${sinkId}' (an AgentSink). `
      + 'Pass --bucket B (or --queue URL) and --function F for a sink composed differently.');
  }
  return bucket ? { bucket, functionName } : { queueUrl, functionName };
}

/** What to do about letters held back as older than --max-age (both destinations). */
export function tooOldAdvice(summary: Pick<ReplaySummary, 'tooOld' | 'tooOldViews'>, maxAgeHours: number, where: string): string {
  return `${summary.tooOld} letter(s) of view(s) ${summary.tooOldViews.join(', ')} are older than ${maxAgeHours} h and were not replayed (${where}): a row deleted since `
    + 'may have lost its delete tombstone (search deleteTombstoneRetention, 1 day by default; cache tombstoneTtl, 7 days), and replaying would bring it back. '
    + `Re-read the current rows instead: ${summary.tooOldViews.filter(v => v !== '-').map(v => `agent-data-stack resnapshot --view ${v}`).join('; ')}. `
    + 'Or, when every such view keeps tombstones longer, pass --max-age HOURS up to that retention.';
}

/** Prints a queue replay's outcome; returns the exit code (1 when anything was held back, left, not deleted or dead-lettered again). */
export function reportQueueReplay(summary: QueueReplaySummary, target: { queueUrl: string; functionName: string }, maxAgeHours: number, io: CliIo): number {
  const replayed = summary.letters - summary.tooOld - summary.cut.length - summary.leftByFailure;
  io.stdout(`Replayed ${replayed} of ${summary.letters} dead letter(s) from ${target.queueUrl} through ${target.functionName} in ${summary.batches} batch(es): `
    + `${summary.written} written, ${summary.stale} already newer in the store, ${summary.skipped} skipped, ${summary.deadLettered} dead-lettered again; `
    + `${summary.deleted} message(s) deleted.`);
  if (summary.sentAfterStart > 0 || summary.otherViews > 0) {
    io.stdout(`Left in the queue: ${summary.sentAfterStart} message(s) sent after the replay began (letters dead-lettered again, or new failures; `
      + `replay them in a later run once their cause is fixed), ${summary.otherViews} of other views.`);
  }
  if (summary.tooOld > 0) io.stderr(tooOldAdvice(summary, maxAgeHours, 'left in the queue'));
  if (summary.cut.length > 0) {
    const views = [...new Set(summary.cut.map(c => c.view))].sort();
    io.stderr(`${summary.cut.length} letter(s) of view(s) ${views.join(', ')} lost their value or key to SQS's 256 KiB message limit and were not replayed `
      + '(without its value the sink would write the record as a delete, without its key under another key); they were left in the queue. '
      + `Re-read the current rows: ${views.filter(v => v !== '-').map(v => `agent-data-stack resnapshot --view ${v}`).join('; ')}; then delete the messages `
      + `(${summary.cut.slice(0, 5).map(c => `${c.topic}/${c.partition}@${c.offset} message ${c.messageId}`).join(', ')}${summary.cut.length > 5 ? ', ...' : ''}). `
      + 'SinkDeadLetter.bucket() keeps whole letters.');
  }
  if (summary.unreadable.length > 0) {
    // The event source mapping also sends the batches it gives up on here: to an SQS destination, metadata only (no records).
    io.stderr(`${summary.unreadable.length} message(s) are not letters written by the sink (no view/topic/offset) and were left in the queue: `
      + `${summary.unreadable.slice(0, 5).join(', ')}${summary.unreadable.length > 5 ? ', ...' : ''}. A record of a whole batch the event source mapping gave up on `
      + 'names its topic, partition and offsets but not the records: re-read them from Kafka (reset the consumer group to those offsets) or '
      + 'with `agent-data-stack resnapshot --view V`, then delete the message.');
  }
  if (summary.notDeleted.length > 0) {
    io.stderr(`${summary.notDeleted.length} replayed message(s) were not deleted (DeleteMessageBatch: `
      + `${summary.notDeleted.slice(0, 5).map(n => `${n.messageId} ${n.code}${n.message ? `: ${n.message}` : ''}`).join('; ')}): they stay in the queue. `
      + 'Run the command again to delete them; replaying them again is harmless (the store keeps the newest version).');
  }
  if (summary.failure !== undefined) {
    throw new Error(`${summary.failure} (${summary.leftByFailure} letter(s) of that batch and after were left in the queue, none of them deleted)`);
  }
  return summary.deadLettered > 0 || summary.tooOld > 0 || summary.cut.length > 0 || summary.unreadable.length > 0 || summary.notDeleted.length > 0 ? 1 : 0;
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
