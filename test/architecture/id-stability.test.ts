// Construct ids are public API: they never depend on a list position. The example, with a table and a view added in the middle of
// its lists, keeps the logical id of every resource it had (a changed id is a replaced resource in users' accounts).
import { Template } from 'aws-cdk-lib/assertions';
import type { AgentDataStackProps } from '../../lib/agent-data-stack';
import { defineExampleApp } from '../../bin/example';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { testApp } from '../helpers/app';

// The example's own declaration, captured as defineExampleApp passes it, so this test follows the example as it changes.
let mockDeclared: AgentDataStackProps | undefined;
jest.mock('../../lib/agent-data-stack', () => {
  const real = jest.requireActual('../../lib/agent-data-stack');
  class Capturing extends real.AgentDataStack {
    constructor(scope: any, id: string, props: AgentDataStackProps) {
      super(scope, id, props);
      mockDeclared = props;
    }
  }
  return { ...real, AgentDataStack: Capturing };
});

function middle<T>(list: readonly T[], item: T): T[] {
  const at = Math.floor(list.length / 2);
  return [...list.slice(0, at), item, ...list.slice(at)];
}

/** The example with `public.products` captured between its tables and a `products` cache view between its views. */
function grown(declared: AgentDataStackProps): AgentDataStackProps {
  return {
    ...declared,
    source: { ...declared.source, tables: middle(declared.source.tables, 'public.products') },
    views: middle(declared.views, {
      name: 'products',
      description: 'A product\'s name and price, by product id.',
      from: ViewSource.table('public.products'),
      store: ViewStore.CACHE,
      key: ['id'],
      fields: [
        { name: 'id', type: ViewFieldType.INTEGER },
        { name: 'name', type: ViewFieldType.STRING },
        { name: 'price', type: ViewFieldType.NUMBER },
      ],
    }),
  };
}

/** Properties that say which thing a resource is: an id that keeps its resource but changes one of these was repurposed. */
const IDENTITY = /^(TopicName|Topics|IndexName|ViewName|MetricName|Dimensions|Namespace|ConsumerGroupId)$/;

/** Type plus identifying properties, searched through the resource (alarms keep theirs inside Metrics). */
function identity(resource: any): string {
  const found: Array<[string, unknown]> = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (IDENTITY.test(k)) found.push([k, v]);
        else walk(v);
      }
    }
  };
  walk(resource.Properties ?? {});
  return JSON.stringify([resource.Type, found]);
}

describe.each(['development', 'production'])('%s example', (profile) => {
  test('adding a table and a view in the middle of the lists changes no existing logical id', () => {
    const before = Template.fromStack(defineExampleApp(testApp(), { profile })).toJSON().Resources as Record<string, unknown>;
    const declared = mockDeclared!;
    expect(declared.source.tables.length).toBeGreaterThanOrEqual(2);
    const after = Template.fromStack(new AgentDataStack(testApp(), 'AgentDataStack', grown(declared))).toJSON().Resources as Record<string, unknown>;
    const lost = Object.keys(before).filter(id => !(id in after));
    expect(lost).toEqual([]);
    const repurposed = Object.keys(before).filter(id => identity(before[id]) !== identity(after[id]));
    expect(repurposed).toEqual([]);
    // The additions are really there: a topic and a consumer-lag alarm for the new table.
    expect(Object.keys(after).length).toBeGreaterThan(Object.keys(before).length);
    expect(Object.keys(after).filter(id => /Products/i.test(id) && !(id in before)).length).toBeGreaterThan(0);
  });
});
