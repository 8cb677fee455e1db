// The MCP function's memory by deployment profile (docs/PERFORMANCE.md, "MCP memory": chosen from the peak RSS of the largest
// answer and from CPU, which Lambda allots in proportion to memory).
import { DeploymentProfile, PRODUCTION_MCP_MEMORY_MB, profileDefaults } from '../../lib/profiles';
import { exampleTemplate } from '../helpers/example-template';

const MCP_FUNCTION = { Description: 'MCP server: typed tools over the agent data stores' };

function mcpMemory(profile: 'development' | 'production'): number {
  const t = exampleTemplate(profile);
  return (Object.values(t.findResources('AWS::Lambda::Function', { Properties: MCP_FUNCTION }))[0] as any).Properties.MemorySize;
}

test('production gives the MCP function 1024 MB, development the construct\'s 512 MB', () => {
  expect(PRODUCTION_MCP_MEMORY_MB).toBe(1024);
  expect(profileDefaults(DeploymentProfile.PRODUCTION).mcp).toMatchObject({ memorySize: 1024 });
  expect(profileDefaults(DeploymentProfile.DEVELOPMENT).mcp.memorySize).toBeUndefined();
  expect(mcpMemory('production')).toBe(1024);
  expect(mcpMemory('development')).toBe(512);
});
