// Test apps: the repository's cdk.json context (feature flags), optional validation gate, bundling off unless asked for.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import { applyValidationGate, GatePack, VALIDATION_GATE_CONTEXT } from '../../lib/validation-gate';

const CDK_JSON_CONTEXT: Record<string, unknown> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
).context;

/** Deterministic environment used by unit tests (no lookups happen either way). */
export const TEST_ENV = { account: '123456789012', region: 'us-east-1' };

export interface TestAppOptions {
  /** Run esbuild for NodejsFunctions. Off by default: unit tests only look at templates. */
  readonly bundle?: boolean;
  /**
   * Add the validation gate and strict CloudFormation validation. `true` runs AwsSolutions, the one nag pack each
   * construct's own test runs; the example app's gate test passes every pack of `npx cdk synth` (DEFAULT_GATE_PACKS).
   */
  readonly gate?: boolean | readonly GatePack[];
  readonly context?: Record<string, unknown>;
}

export function testApp(options: TestAppOptions = {}): App {
  const app = new App({
    outdir: fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-agent-test-')),
    context: {
      ...CDK_JSON_CONTEXT,
      ...(options.gate ? VALIDATION_GATE_CONTEXT : {}),
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  if (options.gate) applyValidationGate(app, { packs: options.gate === true ? [GatePack.AWS_SOLUTIONS] : options.gate });
  return app;
}

export function testStack(app: App = testApp(), id = 'TestStack', props: StackProps = {}): Stack {
  return new Stack(app, id, { env: TEST_ENV, ...props });
}
