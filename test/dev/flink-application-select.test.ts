// The engines and `dev --engines` build and run a Flink package from the synthesized template. The example has two Flink
// applications (the order-enrichment transform and the warehouse writer), so which package and which properties are taken
// must be chosen, not whichever comes first: the package is always the one whose ObjectKey is that application's FileKey.
import { Template } from 'aws-cdk-lib/assertions';
import { flinkApplication, transformApplicationId } from '../../cli/dev/engines/flink';
import { serviceSettings } from '../../cli/dev/engines/warehouse/writer';
import { EXAMPLE_TRANSFORM_NAME } from '../../constructs/processing';
import { exampleTemplate } from '../helpers/example-template';

const fileKey = (app: any) => app.Properties.ApplicationConfiguration.ApplicationCodeConfiguration.CodeContent.S3ContentLocation.FileKey;

test('the example\'s transform is picked by its logical ID prefix, with its own package', () => {
  const template = exampleTemplate('development');
  const picked = flinkApplication(template, transformApplicationId(EXAMPLE_TRANSFORM_NAME));
  expect(picked.logicalId).toMatch(/^Transformorderenrichment[0-9A-F]{8}$/);
  expect(picked.artifact.Properties.ObjectKey).toBe(fileKey(picked.application));
  const sql = (picked.artifact.Properties.Files as Array<{ path: string; content?: string }>).find(f => f.path === 'job.sql')!.content!;
  expect(sql).toContain('orders_enriched');
  expect(sql).not.toContain('iceberg');
});

test('without a selector a template with several Flink applications is refused, naming them', () => {
  const template = exampleTemplate('development');
  expect(() => flinkApplication(template)).toThrow(/the template has 2 Flink applications \(Transformorderenrichment[0-9A-F]{8}, WarehouseWriterorderhistory[0-9A-F]{8}\); name one/);
  expect(() => serviceSettings(template)).toThrow(/the template has 2 Flink applications/);
  expect(() => flinkApplication(template, 'Nope')).toThrow(/no Flink application with a logical ID starting 'Nope' in the template \(it has Transformorderenrichment/);
});

test('the warehouse writer\'s settings are its own application\'s checkpointing, not the transform\'s', () => {
  const template = exampleTemplate('development');
  const writer = flinkApplication(template, 'WarehouseWriter');
  expect(writer.artifact.Properties.ObjectKey).toBe(fileKey(writer.application));
  const checkpoints = writer.application.Properties.ApplicationConfiguration.FlinkApplicationConfiguration.CheckpointConfiguration;
  const settings = serviceSettings(template, 'WarehouseWriter');
  expect(settings['parallelism.default']).toBe(String(writer.application.Properties.ApplicationConfiguration.FlinkApplicationConfiguration.ParallelismConfiguration?.Parallelism ?? 1));
  if (checkpoints?.ConfigurationType === 'CUSTOM') expect(settings['execution.checkpointing.interval']).toBe(`${checkpoints.CheckpointInterval} ms`);
  else expect(settings['execution.checkpointing.interval']).toBe('60000 ms');
});

test('a template without the named package is refused, naming the missing key', () => {
  const json = exampleTemplate('development').toJSON();
  for (const id of Object.keys(json.Resources)) if (id.startsWith('TransformorderenrichmentPackage')) delete json.Resources[id];
  expect(() => flinkApplication(Template.fromJSON(json), transformApplicationId(EXAMPLE_TRANSFORM_NAME))).toThrow(/no Flink package \(Custom::DeployTimeArtifact\) with ObjectKey "flink\/[0-9a-f]{64}\.zip", the code of Transformorderenrichment/);
});
