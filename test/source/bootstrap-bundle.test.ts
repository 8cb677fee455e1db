// The bootstrap handler bundles with local esbuild (pg and mysql2 included, the AWS SDK and pg-native left out).
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { CdcSourceDatabase } from '../../constructs/source';
import { testApp, testStack } from '../helpers/app';

test('the replication bootstrap handler bundles for real', () => {
  const app = testApp({ bundle: true });
  const stack = testStack(app);
  const vpc = new AgentNetwork(stack, 'Net').vpc;
  new CdcSourceDatabase(stack, 'Source', { vpc, tables: ['public.orders'] });
  const t = Template.fromStack(stack);
  const assembly = app.synth();
  const bootstrap = Object.values(t.findResources('AWS::Lambda::Function'))
    .find(r => String(r.Properties.Description).startsWith('Prepares the CDC source database'));
  expect(bootstrap).toBeDefined();
  const assetKey: string = bootstrap!.Properties.Code.S3Key;
  const assetDir = path.join(assembly.directory, `asset.${assetKey.replace(/\.zip$/, '')}`);
  const code = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');
  // The drivers are in the bundle; the SDK is provided by the runtime.
  expect(code).toMatch(/pg_hba\.conf|SCRAM-SHA-256/);
  expect(code).toMatch(/caching_sha2_password/);
  expect(code).toMatch(/require\("@aws-sdk\/client-secrets-manager"\)/);
});
