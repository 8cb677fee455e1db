// The gate keeps each pack's findings per template text: an unchanged template is not scanned twice, while its
// acknowledgments are evaluated on every synth.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { GATE_CACHE_ENV, gateCacheFile, GatePack } from '../../lib/validation-gate';
import { testApp, testStack } from '../helpers/app';
import { gateFindings } from '../helpers/gate';

/** An app whose one bucket has an AwsSolutions-S1 finding (no server access logs), with a unique name so its template is new. */
function bucketApp(acknowledge: boolean): { app: ReturnType<typeof testApp>; template: () => string } {
  const app = testApp({ gate: [GatePack.AWS_SOLUTIONS] });
  const stack = testStack(app, 'CacheProbe');
  const bucket = new s3.Bucket(stack, 'Unlogged', {
    enforceSSL: true, versioned: true, encryption: s3.BucketEncryption.S3_MANAGED, bucketName: `probe-${RUN}`,
  });
  if (acknowledge) Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'a probe bucket of this test' });
  return { app, template: () => path.join(app.outdir, 'CacheProbe.template.json') };
}
const RUN = crypto.randomBytes(6).toString('hex');
const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

afterEach(() => { delete process.env[GATE_CACHE_ENV]; });

test('a second synth of the same template reads the kept findings instead of scanning, and acknowledgments still apply', () => {
  const first = bucketApp(false);
  expect(gateFindings(first.app).map(f => f.rule)).toContain('AwsSolutions-S1');
  const kept = gateCacheFile(GatePack.AWS_SOLUTIONS, sha(first.template()));
  expect(JSON.parse(fs.readFileSync(kept, 'utf8')).map((f: { rule: string }) => f.rule)).toContain('AwsSolutions-S1');

  // Proof that the kept entry is what the next synth reads: a finding planted in it is reported.
  const planted = [...JSON.parse(fs.readFileSync(kept, 'utf8')), { pack: GatePack.AWS_SOLUTIONS, rule: 'AwsSolutions-PLANTED', description: 'planted', logicalId: 'Unlogged' }];
  fs.writeFileSync(kept, JSON.stringify(planted));
  const second = bucketApp(false);
  expect(gateFindings(second.app).map(f => f.rule)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-PLANTED']));

  // An acknowledgment added in code counts although the template (and so the kept scan) is unchanged.
  const acknowledged = bucketApp(true);
  expect(gateFindings(acknowledged.app).map(f => f.rule)).not.toContain('AwsSolutions-S1');
  expect(sha(acknowledged.template())).toBe(sha(first.template()));
});

test(`${GATE_CACHE_ENV}=off scans afresh`, () => {
  const first = bucketApp(false);
  gateFindings(first.app);
  const kept = gateCacheFile(GatePack.AWS_SOLUTIONS, sha(first.template()));
  fs.writeFileSync(kept, '[]');
  process.env[GATE_CACHE_ENV] = 'off';
  expect(gateFindings(bucketApp(false).app).map(f => f.rule)).toContain('AwsSolutions-S1');
});
