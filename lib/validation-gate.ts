// The validation gate: cdk-nag AwsSolutions plus CloudFormation validation with warnings treated as errors.
// Published as the `cdk-agent-data-stack/gate` subpath, not from the package root: cdk-nag is an optional peer
// dependency, loaded only when the gate is applied, so an app without cdk-nag can import every construct.
import { App, AppProps, IPolicyValidationPlugin, Validations } from 'aws-cdk-lib';

/**
 * Context that makes `CloudFormation Validate` findings fail synthesis: its errors stay errors
 * (`validateAgainstDefaultRules`) and its warnings count as errors (`strictCfnValidateErrors`).
 * `cdk.json` sets the same keys for `npx cdk synth`.
 */
export const VALIDATION_GATE_CONTEXT: Readonly<Record<string, boolean>> = {
  '@aws-cdk/core:strictCfnValidateErrors': true,
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};

/** Adds the AwsSolutions rule pack to an app; unacknowledged findings then fail `app.synth()`. Needs `cdk-nag` installed. */
export function applyValidationGate(app: App): App {
  Validations.of(app).addPlugins(awsSolutionsChecks(app));
  return app;
}

/** A new App with the gate's context and the AwsSolutions pack already applied. Needs `cdk-nag` installed. */
export function createGatedApp(props: AppProps = {}): App {
  const app = new App({ ...props, context: { ...VALIDATION_GATE_CONTEXT, ...props.context } });
  return applyValidationGate(app);
}

function awsSolutionsChecks(app: App): IPolicyValidationPlugin {
  let nag: { AwsSolutionsChecks: new (scope: App) => IPolicyValidationPlugin };
  try {
    nag = require('cdk-nag');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    throw new Error('cdk-agent-data-stack/gate: applyValidationGate needs the optional peer dependency cdk-nag (3.x), which is not installed; run `npm install --save-dev cdk-nag@^3`.', { cause: e });
  }
  return new nag.AwsSolutionsChecks(app);
}
