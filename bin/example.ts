// The example declaration: the e-commerce case (customers and orders in PostgreSQL, completed orders enriched by Flink SQL).
import * as fs from 'fs';
import * as path from 'path';
import { App, Duration } from 'aws-cdk-lib';
import { AgentDataStack, ViewSource } from '../lib/agent-data-stack';
import { DeploymentProfile } from '../lib/profiles';
import { EXAMPLE_ORDER_ENRICHMENT_SQL, EXAMPLE_TRANSFORM_NAME, exampleOrderEnrichmentTables } from '../constructs/processing/example';
import { ViewFieldType, ViewStore } from '../constructs/stores/view';
import { SourceSchema } from '../constructs/source/schema';

/**
 * The example schema the dev loop loads too (`agent-data-stack dev`): beside the sources, or, compiled to dist/bin,
 * in the package's cli/dev folder. One file, so the deployed example and the dev loop capture the same tables.
 */
export const EXAMPLE_SCHEMA_FILE = [path.join(__dirname, '..', 'cli', 'dev', 'example-schema.sql'), path.join(__dirname, '..', '..', 'cli', 'dev', 'example-schema.sql')]
  .find(p => fs.existsSync(p)) ?? path.join(__dirname, '..', 'cli', 'dev', 'example-schema.sql');

export interface ExampleOptions {
  /** `development` or `production`. @default 'development' */
  readonly profile?: string;
}

export function defineExampleApp(app: App, options: ExampleOptions = {}): AgentDataStack {
  const profile = DeploymentProfile.of(options.profile ?? 'development');
  return new AgentDataStack(app, 'AgentDataStack', {
    // Environment-agnostic on purpose: synth needs no account, no region and no network.
    description: `cdk-agent-data-stack example (${profile.name}): e-commerce CDC to agent stores and MCP`,
    profile,
    source: {
      tables: ['public.customers', 'public.orders', 'public.support_tickets'],
      // Ticket bodies can pass PostgreSQL's 2 KB TOAST threshold: with full row images an UPDATE of a ticket's status still
      // carries its body (the tables the transform reads get them anyway). Without, the sink dead-letters such updates.
      fullRowImageTables: ['public.support_tickets'],
      databaseName: 'shop',
      // The new database starts empty: the bootstrap creates the example tables (and seed rows) before it checks them.
      initialSchema: SourceSchema.fromFile(EXAMPLE_SCHEMA_FILE),
    },
    transforms: [{ name: EXAMPLE_TRANSFORM_NAME, sql: EXAMPLE_ORDER_ENRICHMENT_SQL, tables: exampleOrderEnrichmentTables() }],
    views: [
      {
        name: 'customer',
        description: 'A customer\'s current profile, tier and balance, by customer id.',
        from: ViewSource.table('public.customers'),
        store: ViewStore.CACHE,
        key: ['id'],
        fields: [
          { name: 'id', type: ViewFieldType.INTEGER, description: 'Customer id' },
          { name: 'name', type: ViewFieldType.STRING },
          { name: 'email', type: ViewFieldType.STRING },
          { name: 'tier', type: ViewFieldType.KEYWORD, description: 'standard, silver, gold or platinum' },
          { name: 'balance', type: ViewFieldType.NUMBER, description: 'Account balance' },
          { name: 'updated_at', type: ViewFieldType.TIMESTAMP },
        ],
        cache: { tombstoneTtl: Duration.days(7) },
      },
      {
        name: 'orders',
        description: 'Completed orders with the customer\'s name and tier, searchable by customer and time.',
        from: ViewSource.transform(EXAMPLE_TRANSFORM_NAME, 'orders_enriched'),
        store: ViewStore.SEARCH,
        key: ['order_id'],
        fields: [
          { name: 'order_id', type: ViewFieldType.INTEGER },
          { name: 'customer_id', type: ViewFieldType.INTEGER },
          { name: 'customer_name', type: ViewFieldType.TEXT },
          { name: 'customer_tier', type: ViewFieldType.KEYWORD },
          { name: 'total', type: ViewFieldType.NUMBER },
          { name: 'source_commit_ts', type: ViewFieldType.TIMESTAMP, description: 'When the order last changed in the source' },
        ],
        // The join carries the order's source commit time: freshness is measured from the database, not from Flink.
        commitTimeField: 'source_commit_ts',
        search: { timeField: 'source_commit_ts' },
      },
      {
        name: 'tickets',
        description: 'Support tickets, searchable by text and by meaning (find tickets similar to a complaint).',
        from: ViewSource.table('public.support_tickets'),
        store: ViewStore.SEARCH,
        key: ['id'],
        fields: [
          { name: 'id', type: ViewFieldType.INTEGER },
          { name: 'customer_id', type: ViewFieldType.INTEGER },
          { name: 'subject', type: ViewFieldType.TEXT },
          { name: 'body', type: ViewFieldType.TEXT },
          { name: 'status', type: ViewFieldType.KEYWORD, description: 'open, pending or closed' },
          { name: 'created_at', type: ViewFieldType.TIMESTAMP },
        ],
        // Titan Text Embeddings v2 (1024 dimensions, cosine) over subject and body: adds the tickets_similar tool.
        search: { timeField: 'created_at', vector: { sourceFields: ['subject', 'body'] } },
      },
      {
        name: 'order_history',
        description: 'Every order and every change to it, for trends and comparisons over time (orders per status per month, revenue this quarter against last).',
        from: ViewSource.table('public.orders'),
        store: ViewStore.WAREHOUSE,
        key: ['id'],
        fields: [
          { name: 'id', type: ViewFieldType.INTEGER, description: 'Order id' },
          { name: 'customer_id', type: ViewFieldType.INTEGER },
          { name: 'status', type: ViewFieldType.KEYWORD, description: 'pending, completed or cancelled' },
          { name: 'total', type: ViewFieldType.NUMBER },
          { name: 'created_at', type: ViewFieldType.TIMESTAMP, description: 'When the order was placed' },
        ],
        // Current state upserted by id; every change appended to order_history_history (partitioned by day); agents may send one SELECT.
        warehouse: { history: true, timeField: 'created_at', allowSql: true },
        maxStaleness: Duration.minutes(10),
      },
    ],
  });
}
