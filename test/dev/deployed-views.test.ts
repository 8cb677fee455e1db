// The engines and `dev --engines` take the sink's views from the synthesized template: the sink function's AGENT_VIEWS,
// never the MCP server's or the warehouse freshness probe's (the probe came first in the example's template and carries
// only the warehouse view, which made the engine tests look for topics no view declared).
import { deployedViews, type CfnTemplate } from '../../cli/dev/engines/template';
import { exampleTemplate } from '../helpers/example-template';

test.each(['development', 'production'] as const)('the %s example: the sink views, decoded from their compact form', (profile) => {
  const views = deployedViews(exampleTemplate(profile).toJSON() as CfnTemplate);
  expect(views.map(v => v.name)).toEqual(['customer', 'orders', 'tickets']);
  expect(views.find(v => v.name === 'customer')!.topic).toBe('agentdata.public.customers');
});
