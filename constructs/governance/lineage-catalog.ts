// AgentLineageCatalog: the lineage graph built at synth, stored in SSM parameters the MCP server reads (list_sources, get_lineage).
import { createHash } from 'crypto';
import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { LineageCatalog } from '../../contract/lineage';
import { LINEAGE_CATALOG_ENV } from '../../contract/lineage';
import {
  buildLineageCatalog, FlinkLineageDeclaration, LineageSourceDeclaration, OpenLineageOptions, toOpenLineage, ViewLineageDeclaration,
} from '../../contract/lineage-graph';
import { checkUniqueViewNames } from '../stores/private/view-validation';
import { AgentView } from '../stores/view';
import { LINEAGE_READ_ACTIONS } from './perms';

/** Bytes per Standard-tier parameter (no charge). */
export const LINEAGE_STANDARD_BYTES = 4096;
/** Bytes per Advanced-tier parameter, used only when the catalog does not fit in `MAX_STANDARD_PARTS` standard parameters. */
export const LINEAGE_ADVANCED_BYTES = 8192;
/** A catalog up to 40 KB stays in the free Standard tier. */
export const MAX_STANDARD_PARTS = 10;
/** Beyond 160 KB the catalog belongs in S3 (or one catalog per group of views). */
export const MAX_LINEAGE_PARAMETERS = 20;

export interface AgentLineageCatalogProps {
  /** Name the catalog and its OpenLineage jobs carry. @default - the stack name */
  readonly namespace?: string;
  /** Captured databases: tables, connector and topic prefix. */
  readonly sources: LineageSourceDeclaration[];
  /** INSERT statements of the Flink SQL applications (from the parsed SQL). @default - no transforms */
  readonly flink?: FlinkLineageDeclaration[];
  /**
   * The views the MCP server serves: AgentViews (store, topic and tools derived from each), or, for views this library
   * did not declare, plain lineage declarations.
   */
  readonly views: (AgentView | ViewLineageDeclaration)[];
  /** The warehouse writing the warehouse views: their writer jobs and `database.table` locations. @default - warehouse views are shown with the default sink and location */
  readonly warehouse?: IWarehouseLineage;
}

/** What lineage needs of the warehouse (AgentWarehouse implements it). */
export interface IWarehouseLineage {
  /** The Glue database holding the views' tables. */
  readonly databaseName: string;
  /** Each warehouse view's writer job, by view name. */
  readonly writers: Record<string, { readonly applicationName: string }>;
}

/** A view's lineage declaration: its store, topic and the tools the one tool-name derivation gives it. */
export function viewLineage(view: AgentView, warehouse?: IWarehouseLineage): ViewLineageDeclaration {
  const config = view.toConfig();
  const writer = config.warehouse ? warehouse?.writers[config.name] : undefined;
  return {
    name: config.name, store: config.store, topic: config.topic, tools: view.toolNames(),
    // A warehouse view is written by its Flink job into `database.table`.
    ...(writer && config.warehouse ? { sink: writer.applicationName, location: `${warehouse!.databaseName}.${config.warehouse.table}` } : {}),
  };
}

/**
 * Builds the lineage catalog (source table -> connector -> topic -> Flink statement -> topic -> sink -> store -> MCP tool)
 * at synth and stores its JSON in Standard-tier SSM parameters (split at 4 KB; Advanced tier above 40 KB). Native CloudFormation, no custom resource,
 * deterministic: the same declaration gives the same template. Implements the MCP layer's `ILineageCatalogSource` shape.
 */
export class AgentLineageCatalog extends Construct {
  /** The catalog, as built at synth. */
  public readonly catalog: LineageCatalog;
  /** The parameters holding the catalog JSON, in order. */
  public readonly parameters: ssm.StringParameter[];
  /** SHA-256 of the catalog JSON; the loader checks it so a read during an update never mixes versions. */
  public readonly digest: string;

  constructor(scope: Construct, id: string, props: AgentLineageCatalogProps) {
    super(scope, id);
    const namespace = props.namespace ?? Stack.of(this).stackName;
    if (Token.isUnresolved(namespace)) {
      throw new Error('AgentLineageCatalog: namespace resolves only at deploy time (the stack name is a token). Pass namespace as a plain string.');
    }
    if (props.sources.length === 0) throw new Error('AgentLineageCatalog: sources is empty. Declare the captured tables, connector and topic prefix.');
    if (props.views.length === 0) throw new Error('AgentLineageCatalog: views is empty. Declare the views the MCP server serves.');
    const views = props.views.map(v => (v instanceof AgentView ? viewLineage(v, props.warehouse) : v));
    checkUniqueViewNames('AgentLineageCatalog', views);
    for (const value of [...props.sources.flatMap(s => [s.connectorName, s.topicPrefix, ...s.tables]), ...views.flatMap(v => [v.name, v.topic])]) {
      if (Token.isUnresolved(value)) {
        throw new Error(`AgentLineageCatalog: '${value}' is a deploy-time token; the catalog is built at synth. Pass plain names (connector, topics, tables, views).`);
      }
    }

    this.catalog = buildLineageCatalog({ namespace, sources: props.sources, flink: props.flink, views });
    const json = JSON.stringify(this.catalog);
    this.digest = createHash('sha256').update(json).digest('hex');
    let tier = ssm.ParameterTier.STANDARD;
    let chunks = splitUtf8(json, LINEAGE_STANDARD_BYTES);
    if (chunks.length > MAX_STANDARD_PARTS) {
      tier = ssm.ParameterTier.ADVANCED;
      chunks = splitUtf8(json, LINEAGE_ADVANCED_BYTES);
      Annotations.of(this).addWarningV2('cdk-agent-data-stack:lineage-catalog-advanced',
        `The lineage catalog is ${Buffer.byteLength(json)} bytes, above ${MAX_STANDARD_PARTS} Standard-tier parameters; it is stored in ${chunks.length} Advanced-tier parameters (charged monthly).`);
    }
    if (chunks.length > MAX_LINEAGE_PARAMETERS) {
      throw new Error(`AgentLineageCatalog: the catalog is ${Buffer.byteLength(json)} bytes, more than ${MAX_LINEAGE_PARAMETERS} parameters of 8 KB. Split the views across catalogs (one AgentLineageCatalog per group of views, each with its own namespace).`);
    }
    this.parameters = chunks.map((chunk, i) => new ssm.StringParameter(this, i === 0 ? 'Resource' : `Part${i}`, {
      stringValue: chunk,
      tier,
      description: `Lineage catalog of ${namespace}, part ${i + 1} of ${chunks.length}`,
    }));
  }

  /** Lets a principal read the catalog parameters (GetParameters on exactly these parameters). */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: LINEAGE_READ_ACTIONS,
      resourceArns: this.parameters.map(p => p.parameterArn),
    });
  }

  /** `AGENT_LINEAGE_CATALOG=ssm:<name>,<name>...#<sha256>`, read by `loadCatalogFromEnv()`. */
  public environment(): Record<string, string> {
    return { [LINEAGE_CATALOG_ENV]: `ssm:${this.parameters.map(p => p.parameterName).join(',')}#${this.digest}` };
  }

  /** The catalog as OpenLineage JobEvent and DatasetEvent documents. */
  public toOpenLineage(options: OpenLineageOptions = {}) {
    return toOpenLineage(this.catalog, options);
  }
}

/** Splits a string into parts of at most `maxBytes` UTF-8 bytes without cutting a character. */
export function splitUtf8(text: string, maxBytes: number): string[] {
  const parts: string[] = [];
  let current = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > maxBytes) {
      parts.push(current);
      current = '';
      bytes = 0;
    }
    current += ch;
    bytes += n;
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts;
}
