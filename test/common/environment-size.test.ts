// Lambda's 4 KB environment limit (measured on the JSON of the variables): the estimate, the compact form of large view
// configurations and the synth-time check every AgentFunction carries. The example's MCP function crossed the limit once
// a fourth view (the warehouse's order_history) was declared; the deploy would have failed on it.
import { App, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AgentFunction } from '../../constructs/common/agent-function';
import {
  compactJsonValue, estimatedEnvironmentBytes, GZIP_PREFIX, LAMBDA_ENVIRONMENT_LIMIT_BYTES, UNRESOLVED_VALUE_ESTIMATE_BYTES,
} from '../../constructs/common/private/environment-size';
import { readViewsEnv } from '../../lambda/shared/views-env';
import { exampleTemplate } from '../helpers/example-template';

describe('estimate', () => {
  test('counts the JSON Lambda measures: quotes inside a value are escaped, unresolved values count as the estimate', () => {
    expect(estimatedEnvironmentBytes({ A: 'x' })).toBe('{"A":"x"}'.length);
    expect(estimatedEnvironmentBytes({ A: '["a"]' })).toBe(JSON.stringify({ A: '["a"]' }).length);
    expect(estimatedEnvironmentBytes({ A: '["a"]' })).toBeGreaterThan('{"A":["a"]}'.length);
    const token = Token.asString({ Ref: 'Something' });
    expect(estimatedEnvironmentBytes({ A: token })).toBe(`{"A":"${'x'.repeat(UNRESOLVED_VALUE_ESTIMATE_BYTES)}"}`.length);
  });
});

describe('compact JSON values', () => {
  const views = Array.from({ length: 8 }, (_, i) => ({ name: `view_${i}`, description: 'A view with a description '.repeat(4), store: 'cache', key: ['id'], fields: [{ name: 'id', type: 'integer' }] }));

  test('a large configuration is gzip+base64 and reads back identical; small ones stay plain JSON', () => {
    const json = JSON.stringify(views);
    const compact = compactJsonValue(json);
    expect(compact.startsWith(GZIP_PREFIX)).toBe(true);
    expect(compact.length).toBeLessThan(json.length / 2);
    expect(readViewsEnv(compact)).toEqual(views);
    expect(compactJsonValue(JSON.stringify(views.slice(0, 1)))).toBe(JSON.stringify(views.slice(0, 1)));
    expect(readViewsEnv(JSON.stringify(views.slice(0, 1)))).toEqual(views.slice(0, 1));
  });

  test('a value holding tokens stays plain, so CloudFormation still resolves them', () => {
    const stack = new Stack(new App(), 'S');
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const json = JSON.stringify([...views, { arn: role.roleArn }]);
    expect(compactJsonValue(json)).toBe(json);
  });
});

describe('AgentFunction refuses an environment Lambda would refuse', () => {
  test('5 KB of variables fail at synth naming the function and the fix; 3 KB pass', () => {
    const bigApp = new App();
    new AgentFunction(new Stack(bigApp, 'Big'), 'Fn', { handlerName: 'sink', description: 'test', environment: { A: 'x'.repeat(5000) } });
    expect(() => bigApp.synth()).toThrow(/Big\/Fn.*about 50\d\d bytes.*allows 4096.*Split the views/s);
    const okApp = new App();
    new AgentFunction(new Stack(okApp, 'Ok'), 'Fn', { handlerName: 'sink', description: 'test', environment: { A: 'x'.repeat(3000) } });
    expect(() => okApp.synth()).not.toThrow();
  });

  test.each(['development', 'production'])('every function of the %s example is within the limit, the views compact', (profile) => {
    const t = exampleTemplate(profile as 'development' | 'production').toJSON();
    const functions = Object.entries<any>(t.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Environment?.Variables);
    for (const [, r] of functions) {
      const vars = Object.fromEntries(Object.entries<any>(r.Properties.Environment.Variables)
        .map(([k, v]) => [k, typeof v === 'string' ? v : 'x'.repeat(UNRESOLVED_VALUE_ESTIMATE_BYTES)]));
      expect(Buffer.byteLength(JSON.stringify(vars))).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
    }
    const mcp = functions.find(([id]) => id.startsWith('McpFunction'))![1];
    expect(mcp.Properties.Environment.Variables.AGENT_VIEWS.startsWith(GZIP_PREFIX)).toBe(true);
    expect(readViewsEnv(mcp.Properties.Environment.Variables.AGENT_VIEWS).map((v: { name: string }) => v.name))
      .toEqual(['customer', 'orders', 'tickets', 'order_history']);
  });
});
