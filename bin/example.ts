// The example declaration (the e-commerce case), shared by bin/app.ts and the tests that gate it.
import { App } from 'aws-cdk-lib';
import { AgentDataStack } from '../lib/agent-data-stack';

export interface ExampleOptions {
  /** `development` or `production`. */
  readonly profile?: string;
}

export function defineExampleApp(app: App, _options: ExampleOptions = {}): AgentDataStack {
  return new AgentDataStack(app, 'AgentDataStack', {
    // Environment-agnostic on purpose: synth needs no account, no region and no network.
    description: 'cdk-agent-data-stack example: e-commerce CDC to agent stores and MCP',
  });
}
