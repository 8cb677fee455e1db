// The `cdk-agent-data-stack/gate` entry: the validation gate, kept off the package root because it loads cdk-nag.
export * from './lib/validation-gate';
