// The MCP function's reserved concurrency: set by the deployment profile in the composed stack, validated on the construct.
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { AgentMcpServer } from '../../constructs/mcp';
import { DeploymentProfile, PRODUCTION_MCP_RESERVED_CONCURRENCY, profileDefaults } from '../../lib/profiles';
import { testApp, testStack } from '../helpers/app';
import { exampleTemplate } from '../helpers/example-template';
import { FakeCache } from './fakes';
import { testAgentViews } from './agent-views';

const MCP_FUNCTION = { Description: 'MCP server: typed tools over the agent data stores' };

function mcpFunction(t: Template): any {
  return Object.values(t.findResources('AWS::Lambda::Function', { Properties: MCP_FUNCTION }))[0];
}

describe('by profile', () => {
  test('production reserves 50 concurrent executions for the MCP function', () => {
    expect(profileDefaults(DeploymentProfile.PRODUCTION).mcp).toMatchObject({ reservedConcurrentExecutions: 50 });
    expect(PRODUCTION_MCP_RESERVED_CONCURRENCY).toBe(50);
    const t = exampleTemplate('production');
    expect(mcpFunction(t).Properties.ReservedConcurrentExecutions).toBe(50);
  });

  test('development reserves none (Lambda refuses reservations that leave under 100 unreserved)', () => {
    expect(profileDefaults(DeploymentProfile.DEVELOPMENT).mcp).toEqual({});
    const t = exampleTemplate('development');
    expect(mcpFunction(t).Properties.ReservedConcurrentExecutions).toBeUndefined();
  });
});

describe('validation', () => {
  const views = testAgentViews('agent:').filter(v => v.store.name === 'cache');
  const build = (reservedConcurrentExecutions: number) => {
    const stack = testStack(testApp());
    const vpc = new AgentNetwork(stack, 'Net').vpc;
    return new AgentMcpServer(stack, 'Mcp', { views, vpc, cache: new FakeCache(stack, 'Cache', vpc), reservedConcurrentExecutions });
  };
  test.each([0, -1, 2.5])('fails when reservedConcurrentExecutions is %s', rc => {
    expect(() => build(rc)).toThrow(new RegExp(`reservedConcurrentExecutions is ${rc}; it must be a whole number of at least 1 \\(0 would throttle every call\\)`));
  });
});
