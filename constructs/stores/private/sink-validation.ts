// Validation of AgentSink props, and the reasons its dead-letter bucket's controls are acknowledged.
import { Token } from 'aws-cdk-lib';
import { ViewStore } from '../view';
import type { AgentSinkProps } from '../agent-sink-props';

/** `consumerGroupPrefix`: the group id is `<prefix>.<topic>`, and Lambda takes consumer group ids of at most 200 characters. */
export const MAX_CONSUMER_GROUP_PREFIX_LENGTH = 150;
export const CONSUMER_GROUP_PREFIX = new RegExp(`^[A-Za-z0-9._-]{1,${MAX_CONSUMER_GROUP_PREFIX_LENGTH}}$`);

export function validate(props: AgentSinkProps): void {
  const retention = props.deadLetterRetention;
  if (retention && !retention.isUnresolved() && (retention.toMinutes({ integral: false }) % 1440 !== 0 || retention.toMinutes({ integral: false }) < 1440)) {
    throw new Error(`AgentSink: deadLetterRetention is ${retention.toHumanString()}; S3 lifecycle expiration counts whole days. Give at least Duration.days(1) in whole days.`);
  }
  if (props.views.length === 0) throw new Error('AgentSink: views is empty. Give the views this sink writes.');
  const names = new Set<string>();
  for (const v of props.views) {
    if (names.has(v.name)) throw new Error(`AgentSink: view '${v.name}' is given twice. Each view is written by one sink once.`);
    names.add(v.name);
  }
  if (props.views.some(v => v.store === ViewStore.CACHE) && !props.cache) {
    throw new Error(`AgentSink: views [${props.views.filter(v => v.store === ViewStore.CACHE).map(v => v.name).join(', ')}] use ViewStore.CACHE but cache is not set. Pass cache: <AgentCache>.`);
  }
  if (props.views.some(v => v.store === ViewStore.SEARCH) && !props.search) {
    throw new Error(`AgentSink: views [${props.views.filter(v => v.store === ViewStore.SEARCH).map(v => v.name).join(', ')}] use ViewStore.SEARCH but search is not set. Pass search: <AgentSearch>.`);
  }
  const b = props.batchSize;
  if (b !== undefined && (!Number.isInteger(b) || b < 1 || b > 10000)) throw new Error(`AgentSink: batchSize is ${b}; use an integer from 1 to 10000.`);
  const w = props.maxBatchingWindow;
  if (w && !Token.isUnresolved(w.toSeconds({ integral: false }))) {
    const s = w.toSeconds({ integral: false });
    if (!Number.isInteger(s) || s < 0 || s > 300) throw new Error(`AgentSink: maxBatchingWindow is ${w.toHumanString()}; use whole seconds from 0 to 300 (the default is 0: invoke as soon as a poll returns records).`);
  }
  if ((props.retryAttempts !== undefined || props.maxRecordAge !== undefined) && !props.provisionedPollers) {
    throw new Error('AgentSink: retryAttempts and maxRecordAge apply to Kafka event sources in provisioned mode only. Set provisionedPollers, or remove them.');
  }
  const r = props.retryAttempts;
  if (r !== undefined && (!Number.isInteger(r) || r < -1 || r > 10000)) throw new Error(`AgentSink: retryAttempts is ${r}; use an integer from 0 to 10000 (or -1 for unlimited).`);
  const age = props.maxRecordAge?.toSeconds();
  if (age !== undefined && (age < 60 || age > 604800)) throw new Error(`AgentSink: maxRecordAge is ${props.maxRecordAge!.toHumanString()}; use 60 seconds to 7 days.`);
  const pp = props.provisionedPollers;
  if (pp) {
    const min = pp.minimum ?? 1;
    const max = pp.maximum ?? 10;
    if (!Number.isInteger(min) || min < 1 || min > 200) throw new Error(`AgentSink: provisionedPollers.minimum is ${min}; use 1 to 200.`);
    if (!Number.isInteger(max) || max < min || max > 2000) throw new Error(`AgentSink: provisionedPollers.maximum is ${max}; use ${min} (the minimum) to 2000.`);
  }
  const service = props.serviceName;
  if (service !== undefined && !Token.isUnresolved(service) && (service.length === 0 || service.length > 1024 || service.trim() !== service)) {
    throw new Error(`AgentSink: serviceName '${service}' is not a CloudWatch dimension value. Use 1-1024 characters without leading or trailing spaces, e.g. 'orders-sink'.`);
  }
  if (props.consumerGroupPrefix !== undefined && !CONSUMER_GROUP_PREFIX.test(props.consumerGroupPrefix)) {
    throw new Error(`AgentSink: consumerGroupPrefix '${props.consumerGroupPrefix}' must be 1-150 letters, digits, '.', '_' or '-'.`);
  }
}

/** Control Tower S3 controls that do not fit a bucket of records written by the stack and expired by a lifecycle. */
export function acknowledgeBucketControls(what: string): Array<{ id: string; reason: string }> {
  return [
    { id: 'ControlTower-CT.S3.PR.4', reason: `Nothing reacts to new ${what}: they are read on demand (agent-data-stack replay-dead-letters) and the sink's RecordsDeadLettered metric and alarm report each one.` },
    { id: 'ControlTower-CT.S3.PR.9', reason: `Object Lock would stop the lifecycle from deleting ${what} after their declared retention; versioning already keeps overwritten objects for a day.` },
  ];
}
