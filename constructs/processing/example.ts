// The example application's Flink job: completed orders enriched with the customer's name and tier, from the orders and customers CDC topics.
import { FlinkTable } from './flink-tables';

/** The example's transform (AgentDataStack's `transforms[].name`): its Flink application is `Transform-order-enrichment`. */
export const EXAMPLE_TRANSFORM_NAME = 'order-enrichment';
/** Debezium topics of the example's source tables (`<topic.prefix>.<schema>.<table>`). */
export const EXAMPLE_ORDERS_TOPIC = 'agentdata.public.orders';
export const EXAMPLE_CUSTOMERS_TOPIC = 'agentdata.public.customers';
/** The job's output: one record per completed order, keyed by order id. */
export const EXAMPLE_ENRICHED_ORDERS_TOPIC = 'agentdata.flink.orders_enriched';

/** The CDC source tables and the upsert-kafka output the example job uses. */
export function exampleOrderEnrichmentTables(): FlinkTable[] {
  return [
    FlinkTable.debeziumSource({
      name: 'orders',
      topic: EXAMPLE_ORDERS_TOPIC,
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'customer_id', type: 'BIGINT' },
        { name: 'status', type: 'STRING' },
        { name: 'total', type: 'DECIMAL(12, 2)' },
      ],
      primaryKey: ['id'],
    }),
    FlinkTable.debeziumSource({
      name: 'customers',
      topic: EXAMPLE_CUSTOMERS_TOPIC,
      columns: [
        { name: 'id', type: 'BIGINT' },
        { name: 'name', type: 'STRING' },
        { name: 'tier', type: 'STRING' },
      ],
      primaryKey: ['id'],
    }),
    FlinkTable.upsertKafkaSink({
      name: 'orders_enriched',
      topic: EXAMPLE_ENRICHED_ORDERS_TOPIC,
      columns: [
        { name: 'order_id', type: 'BIGINT' },
        { name: 'customer_id', type: 'BIGINT' },
        { name: 'customer_name', type: 'STRING' },
        { name: 'customer_tier', type: 'STRING' },
        { name: 'total', type: 'DECIMAL(12, 2)' },
        { name: 'source_commit_ts', type: 'TIMESTAMP_LTZ(3)' },
      ],
      primaryKey: ['order_id'],
    }),
  ];
}

/**
 * The example job. A regular (non-windowed) join of two changelog tables: an order update or a customer's
 * tier change re-emits the affected rows, so the upsert topic always holds the current enrichment.
 * The source commit time of the order travels with the row for freshness measurement downstream. Source
 * timestamp columns are left out on purpose: Debezium's default time precision mode encodes them as epoch
 * numbers, which Flink's JSON format does not read as TIMESTAMP (declare them BIGINT and convert in SQL).
 */
export const EXAMPLE_ORDER_ENRICHMENT_SQL = `-- Completed orders with the customer's current name and tier.
INSERT INTO orders_enriched
SELECT
  o.id AS order_id,
  o.customer_id,
  c.name AS customer_name,
  c.tier AS customer_tier,
  o.total,
  o.cdc_commit_ts AS source_commit_ts
FROM orders AS o
JOIN customers AS c ON o.customer_id = c.id
WHERE o.status = 'completed';
`;
