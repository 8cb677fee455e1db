// Deployment profiles: the per-construct defaults AgentDataStack applies for development and production.
import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { AgentNetworkProps } from '../constructs/common/agent-network';
import { FlinkSqlApplicationProps } from '../constructs/processing/flink-sql-application';
import { CdcSourceDatabaseProps } from '../constructs/source/cdc-source-database';
import { AgentCacheProps } from '../constructs/stores/agent-cache';
import { AgentSearchProps, SearchViewIndexOptions } from '../constructs/stores/agent-search';
import { AgentSinkProps } from '../constructs/stores/agent-sink';
import { AgentStreamingClusterProps, KafkaVersion } from '../constructs/streaming/cluster';
import { ConnectorCapacity, DebeziumConnectorProps } from '../constructs/streaming/debezium-connector';
import { DecisionAuditLogProps } from '../constructs/governance/decision-audit-log';
import type { AgentMcpServerProps } from '../constructs/mcp/agent-mcp-server';

/** How big, how available and how disposable the stack is. Every profile default can be overridden per construct. */
export class DeploymentProfile {
  /**
   * Smallest footprint and cost: two AZs, one NAT gateway, single-AZ burstable database, two small brokers,
   * a serverless cache, a one-node search domain, and resources that are deleted with the stack.
   */
  public static readonly DEVELOPMENT = new DeploymentProfile('development');
  /**
   * Multi-AZ everywhere: three AZs and NAT gateways, Multi-AZ database with deletion protection, three brokers,
   * dedicated OpenSearch masters, retained data, alarms to a notification topic.
   */
  public static readonly PRODUCTION = new DeploymentProfile('production');

  /** The profile named `name` (`development` or `production`), e.g. from `-c profile=...`. */
  public static of(name: string): DeploymentProfile {
    const found = [DeploymentProfile.DEVELOPMENT, DeploymentProfile.PRODUCTION].find(p => p.name === name);
    if (!found) throw new Error(`DeploymentProfile: '${name}' is not a profile. Use 'development' or 'production'.`);
    return found;
  }

  private constructor(public readonly name: 'development' | 'production') {}

  public get isProduction(): boolean {
    return this === DeploymentProfile.PRODUCTION;
  }
}

/** What a profile sets on each construct (before the caller's per-construct overrides). */
export interface ProfileDefaults {
  readonly network: AgentNetworkProps;
  readonly source: Partial<CdcSourceDatabaseProps>;
  readonly cluster: Partial<AgentStreamingClusterProps>;
  readonly flink: Partial<FlinkSqlApplicationProps>;
  readonly cache: Partial<AgentCacheProps>;
  readonly search: Partial<AgentSearchProps>;
  readonly searchIndex: SearchViewIndexOptions;
  readonly decisions: DecisionAuditLogProps;
  readonly mcp: Partial<AgentMcpServerProps>;
  /** Connector capacity: Debezium runs one task, so one provisioned worker; the MCU count is the bound. */
  readonly connector: Partial<DebeziumConnectorProps>;
  /** Event source mapping pollers (provisioned mode bounds), or on-demand. */
  readonly sink: Partial<AgentSinkProps>;
  /**
   * The KPU budget of each Flink application. Managed Flink's auto scaling has no per-application maximum (it stops at the
   * account's KPU quota, 64 by default): this bound is the headroom line and the `HeadroomFlink<n>` alarm.
   */
  readonly flinkMaxKpus: number;
}

/**
 * Reserved concurrency of a production MCP function: about 1,000 calls a second at 50 ms each, while an agent loop cannot take
 * the account's other functions' concurrency or open more than 50 connections per store.
 */
export const PRODUCTION_MCP_RESERVED_CONCURRENCY = 50;

/**
 * Memory of a production MCP function (docs/PERFORMANCE.md, "MCP memory"): the largest answer a function URL can carry peaks at
 * about 145 MiB RSS, so 256 MB would hold it; the calls are CPU-bound (JSON, schema validation), and Lambda's CPU grows with
 * memory, so 1024 MB halves cold-start and call time against the construct's 512 MB for about the same GB-seconds per call.
 */
export const PRODUCTION_MCP_MEMORY_MB = 1024;

/**
 * Memory of the sink function per profile (docs/PERFORMANCE.md, "Sink memory", `npm run bench -- sink-memory`): the largest batch
 * the event source can deliver (500 records of about 12 KiB, the 6 MB invocation payload) peaks at about 111 MiB RSS, and the most
 * records the payload can hold at about 125 MiB, so memory never sets the size: 512 MB leaves 4x room. CPU does (Lambda allots it
 * in proportion to memory, one vCPU at 1,769 MB): production's 1024 MB halves the time of a backlog batch and of a cold start for
 * about the same GB-seconds per CPU-bound batch; development keeps the construct's 512 MB.
 */
export const PRODUCTION_SINK_MEMORY_MB = 1024;
export const DEVELOPMENT_SINK_MEMORY_MB = 512;

/** What the defaults depend on besides the profile. */
export interface ProfileContext {
  /** The source runs on Aurora (which has no micro instances). @default false */
  readonly aurora?: boolean;
  /** The source is MySQL (RDS for MySQL refuses Performance Insights on micro and small classes). @default false */
  readonly mysql?: boolean;
  /** The source is an existing database (its parameter group is not ours). @default false */
  readonly existingDatabase?: boolean;
  /** Availability Zones the VPC spans; caps zone-aware settings. @default 3 */
  readonly availabilityZones?: number;
}

/**
 * `max_slot_wal_keep_size` of a production source: at 1 MiB/s of WAL a stalled connector has about 14 hours before its slot
 * is invalidated (then: new slot and re-snapshot), while the 100 GiB volume (autoscaling to 1 TiB) keeps room for data.
 */
export const PRODUCTION_SLOT_WAL_KEEP_SIZE = Size.gibibytes(50);
/** `max_slot_wal_keep_size` of a development source: a fifth of its 20 GiB volume, so a forgotten stopped connector never fills it. */
export const DEVELOPMENT_SLOT_WAL_KEEP_SIZE = Size.gibibytes(4);

/** Production broker storage: grows at 60 % use, by the larger of 10 GiB and 10 %, up to 1000 GiB per broker. */
export const PRODUCTION_BROKER_STORAGE_SCALING = { maxVolumeSizeGiB: 1000, targetUtilizationPercent: 60 };
/** Production sink event source mappings: provisioned pollers, each up to 5 MB/s or 5 concurrent invocations. */
export const PRODUCTION_SINK_POLLERS = { minimum: 1, maximum: 10 };

/**
 * The cluster props of a profile under the caller's `clusterOptions`: the profile's storage auto scaling is left out where it
 * cannot apply (MSK Serverless) and its maximum is raised above a larger `volumeSizeGiB` the caller chose.
 */
export function clusterPropsWith(profileCluster: Partial<AgentStreamingClusterProps>, options: Partial<AgentStreamingClusterProps> = {}): Partial<AgentStreamingClusterProps> {
  const merged = { ...profileCluster, ...options };
  const scaling = profileCluster.storageAutoScaling;
  if (!scaling || options.storageAutoScaling !== undefined) return merged;
  const volume = merged.volumeSizeGiB ?? 100;
  if (merged.serverless || volume >= 16384) return { ...merged, storageAutoScaling: undefined };
  return volume < scaling.maxVolumeSizeGiB ? merged : { ...merged, storageAutoScaling: { ...scaling, maxVolumeSizeGiB: Math.min(16384, volume * 10) } };
}

/** The slot WAL limit applies to new RDS for PostgreSQL databases only (not Aurora, not MySQL). */
function slotWalLimit(context: ProfileContext, size: Size): { maxSlotWalKeepSize?: Size } {
  return context.aurora || context.mysql || context.existingDatabase ? {} : { maxSlotWalKeepSize: size };
}

/** The defaults of `profile`; see docs/CONFIGURATION.md for why each value was chosen. */
export function profileDefaults(profile: DeploymentProfile, context: ProfileContext = {}): ProfileDefaults {
  const azs = context.availabilityZones ?? 3;
  if (profile.isProduction) {
    return {
      network: { maxAzs: 3, natGateways: 3 },
      // CdcSourceDatabase, AgentStreamingCluster, AgentCache and DecisionAuditLog defaults are production-shaped already;
      // the slot WAL limit is stated here too because it is a profile decision (RDS for PostgreSQL only).
      source: { ...slotWalLimit(context, PRODUCTION_SLOT_WAL_KEEP_SIZE) },
      // Broker storage grows by itself from 100 GiB up to 1000 GiB per broker (never shrinks; cost in docs/OPERATIONS.md).
      cluster: { storageAutoScaling: PRODUCTION_BROKER_STORAGE_SCALING },
      flink: { parallelism: 2, autoScaling: true, removalPolicy: RemovalPolicy.RETAIN },
      cache: {},
      // Zone awareness over every AZ the VPC has (up to 3), one data node per AZ.
      search: { dataNodes: Math.min(3, Math.max(azs, 1)), availabilityZoneCount: Math.min(3, Math.max(azs, 1)), dedicatedMasterNodes: 3 },
      searchIndex: {},
      decisions: {},
      mcp: { reservedConcurrentExecutions: PRODUCTION_MCP_RESERVED_CONCURRENCY, memorySize: PRODUCTION_MCP_MEMORY_MB },
      connector: { capacity: ConnectorCapacity.provisioned({ workerCount: 1, mcuCount: 1 }) },
      sink: { provisionedPollers: PRODUCTION_SINK_POLLERS, memorySize: PRODUCTION_SINK_MEMORY_MB },
      flinkMaxKpus: 8,
    };
  }
  return {
    network: { maxAzs: 2, natGateways: 1 },
    source: {
      // Aurora's smallest class is db.t4g.medium; RDS goes down to micro.
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, context.aurora ? ec2.InstanceSize.MEDIUM : ec2.InstanceSize.MICRO),
      multiAz: false,
      allocatedStorage: 20,
      backupRetention: Duration.days(1),
      removalPolicy: RemovalPolicy.DESTROY,
      // RDS for MySQL has no Performance Insights on db.t4g.micro (docs/source.md): off on purpose, not with a warning.
      ...(context.mysql && !context.aurora ? { performanceInsights: false } : {}),
      ...slotWalLimit(context, DEVELOPMENT_SLOT_WAL_KEEP_SIZE),
    },
    // kafka.t3.small is the cheapest broker; it runs ZooKeeper-mode Kafka only (3.8.x), which still has AWS::MSK::Topic.
    cluster: { instanceType: 'kafka.t3.small', kafkaVersion: KafkaVersion.V3_8_X, volumeSizeGiB: 20, removalPolicy: RemovalPolicy.DESTROY },
    flink: { parallelism: 1, autoScaling: false, removalPolicy: RemovalPolicy.DESTROY },
    cache: { removalPolicy: RemovalPolicy.DESTROY },
    search: {
      dataNodes: 1, availabilityZoneCount: 1, dedicatedMasterNodes: 0, dataNodeInstanceType: 't3.medium.search',
      volumeSize: 10, removalPolicy: RemovalPolicy.DESTROY,
    },
    searchIndex: { removalPolicy: RemovalPolicy.DESTROY },
    decisions: { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false },
    // No reservation: Lambda refuses one that leaves less than 100 unreserved, and new accounts often have a lower total limit.
    // Memory: the construct's 512 MB, 3.5 times the largest answer's peak RSS, with half of production's CPU.
    mcp: {},
    connector: { capacity: ConnectorCapacity.provisioned({ workerCount: 1, mcuCount: 1 }) },
    // On-demand pollers: Lambda scales them, no poller charge.
    sink: { memorySize: DEVELOPMENT_SINK_MEMORY_MB },
    flinkMaxKpus: 1,
  };
}
