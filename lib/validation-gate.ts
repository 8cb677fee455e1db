// The validation gate: cdk-nag AwsSolutions plus CloudFormation validation with warnings treated as errors.
import { App, AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Context that makes `CloudFormation Validate` findings fail synthesis: its errors stay errors
 * (`validateAgainstDefaultRules`) and its warnings count as errors (`strictCfnValidateErrors`).
 * `cdk.json` sets the same keys for `npx cdk synth`.
 */
export const VALIDATION_GATE_CONTEXT: Readonly<Record<string, boolean>> = {
  '@aws-cdk/core:strictCfnValidateErrors': true,
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};

/** Adds the AwsSolutions rule pack to an app; unacknowledged findings then fail `app.synth()`. */
export function applyValidationGate(app: App): App {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return app;
}

/** A new App with the gate's context and the AwsSolutions pack already applied. */
export function createGatedApp(props: AppProps = {}): App {
  const app = new App({ ...props, context: { ...VALIDATION_GATE_CONTEXT, ...props.context } });
  return applyValidationGate(app);
}
