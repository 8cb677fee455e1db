#!/usr/bin/env node
// The CDK app: the example AgentDataStack under the validation gate. `-c profile=production` switches profiles.
import { App } from 'aws-cdk-lib';
import { applyValidationGate, VALIDATION_GATE_CONTEXT } from '../gate';
import { defineExampleApp } from './example';

const app = new App({ context: VALIDATION_GATE_CONTEXT });
applyValidationGate(app);
defineExampleApp(app, { profile: app.node.tryGetContext('profile') });
app.synth();
