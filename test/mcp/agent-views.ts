// The construct tests' views as AgentViews (what AgentMcpServer takes): the same three views as testViews() in support.ts,
// which the handler tests read as ViewConfig (agent-mcp-server.test.ts asserts they render the same).
import { Duration } from 'aws-cdk-lib';
import { AgentView, AgentViewProps, ViewFieldType, ViewStore } from '../../constructs/stores/view';

/** The views as AgentViews. */
export function testAgentViews(prefix: string): AgentView[] {
  return testViewProps(prefix).map(p => new AgentView(p));
}

/** Their declarations, for tests that vary one. */
export function testViewProps(prefix: string): AgentViewProps[] {
  return [
    {
      name: 'customers', description: 'Customers with their current tier and contact details.', store: ViewStore.CACHE,
      topic: 'agentdata.public.customers', key: ['customer_id'], sourceTable: 'public.customers',
      fields: [
        { name: 'customer_id', type: ViewFieldType.INTEGER }, { name: 'email', type: ViewFieldType.STRING }, { name: 'name', type: ViewFieldType.STRING },
        { name: 'tier', type: ViewFieldType.KEYWORD, description: 'bronze, silver or gold' }, { name: 'updated_at', type: ViewFieldType.TIMESTAMP },
      ],
      cache: { keyPrefix: `${prefix}customers:`, tombstoneTtl: Duration.hours(1), ttl: Duration.days(1) },
      maxStaleness: Duration.minutes(10),
    },
    {
      name: 'order_items', description: 'Order lines.', store: ViewStore.CACHE, topic: 'agentdata.public.order_items',
      key: ['order_id', 'sku'], sourceTable: 'public.order_items',
      fields: [{ name: 'order_id', type: ViewFieldType.INTEGER }, { name: 'sku', type: ViewFieldType.STRING }, { name: 'qty', type: ViewFieldType.INTEGER }],
      cache: { keyPrefix: `${prefix}order_items:`, tombstoneTtl: Duration.hours(1) },
    },
    {
      name: 'tickets', description: 'Support tickets.', store: ViewStore.SEARCH, topic: 'agentdata.public.tickets',
      key: ['ticket_id'], sourceTable: 'public.tickets',
      fields: [
        { name: 'ticket_id', type: ViewFieldType.KEYWORD }, { name: 'customer_id', type: ViewFieldType.INTEGER }, { name: 'subject', type: ViewFieldType.TEXT },
        { name: 'body', type: ViewFieldType.TEXT }, { name: 'status', type: ViewFieldType.KEYWORD }, { name: 'priority', type: ViewFieldType.INTEGER },
        { name: 'amount', type: ViewFieldType.NUMBER }, { name: 'created_at', type: ViewFieldType.TIMESTAMP }, { name: 'meta', type: ViewFieldType.JSON },
        { name: 'requester', type: ViewFieldType.STRING },
      ],
      maxStaleness: Duration.minutes(1),
      search: {
        index: 'tickets-v1', timeField: 'created_at',
        // 256, the smallest size Titan Text Embeddings v2 returns (AgentView refuses others); the handler tests' ViewConfig embeds 16.
        vector: { field: 'text_vector_v1', sourceFields: ['subject', 'body'], dimension: 256, modelId: 'amazon.titan-embed-text-v2:0', spaceType: 'cosinesimil' },
      },
    },
  ];
}
