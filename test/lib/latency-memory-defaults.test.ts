// The example's latency and memory defaults per deployment profile, as synthesized (docs/PERFORMANCE.md, "Latency defaults" and
// "Sink memory"): what the deployed freshness budget and the engine measurement (test/engines/commit-to-visible.test.ts) rely on.
import { Match } from 'aws-cdk-lib/assertions';
import { DEVELOPMENT_SINK_MEMORY_MB, DeploymentProfile, PRODUCTION_SINK_MEMORY_MB, profileDefaults } from '../../lib/profiles';
import { exampleTemplate } from '../helpers/example-template';

const PROFILES = ['development', 'production'] as const;

/** The worker configuration's properties file, decoded (its content is `Fn::Base64` of a plain string or an `Fn::Join`). */
function workerProperties(profile: typeof PROFILES[number]): Record<string, string> {
  const wc = Object.values(exampleTemplate(profile).findResources('AWS::KafkaConnect::WorkerConfiguration'))[0] as any;
  const content = wc.Properties.PropertiesFileContent['Fn::Base64'];
  const text = typeof content === 'string' ? content : (content['Fn::Join'][1] as unknown[]).map(p => (typeof p === 'string' ? p : '<token>')).join('');
  return Object.fromEntries(text.split('\n').filter(Boolean).map(l => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe.each(PROFILES)('%s profile', profile => {
  test('every sink event source mapping invokes with a 0 s batching window and batches of at most 500 records', () => {
    const t = exampleTemplate(profile);
    const mappings = Object.values(t.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    expect(mappings.length).toBeGreaterThan(0);
    for (const m of mappings) expect(m.Properties).toMatchObject({ MaximumBatchingWindowInSeconds: 0, BatchSize: 500 });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: ['agentdata.public.customers'], MaximumBatchingWindowInSeconds: 0, BatchSize: 500 });
  });

  test('Debezium polls every 100 ms with batches of 2048, and the worker\'s producer lingers 5 ms (a worker setting, no producer.override.*)', () => {
    const t = exampleTemplate(profile);
    t.hasResourceProperties('AWS::KafkaConnect::Connector', {
      ConnectorConfiguration: Match.objectLike({ 'poll.interval.ms': '100', 'max.batch.size': '2048' }),
    });
    const connector = Object.values(t.findResources('AWS::KafkaConnect::Connector'))[0] as any;
    expect(Object.keys(connector.Properties.ConnectorConfiguration).filter(k => k.startsWith('producer.override.'))).toEqual([]);
    expect(workerProperties(profile)).toMatchObject({ 'producer.linger.ms': '5' });
  });

  test('the sink function has the profile\'s memory', () => {
    const expected = profile === 'production' ? PRODUCTION_SINK_MEMORY_MB : DEVELOPMENT_SINK_MEMORY_MB;
    const sinks = Object.values(exampleTemplate(profile).findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Agent store sink: ') },
    })) as any[];
    expect(sinks).toHaveLength(1);
    expect(sinks[0].Properties.MemorySize).toBe(expected);
  });
});

test('sink memory per profile: production 1024 MB (CPU for backlogs and cold starts), development 512 MB; both at least 4x the measured 125 MiB peak', () => {
  expect(PRODUCTION_SINK_MEMORY_MB).toBe(1024);
  expect(DEVELOPMENT_SINK_MEMORY_MB).toBe(512);
  expect(profileDefaults(DeploymentProfile.PRODUCTION).sink.memorySize).toBe(1024);
  expect(profileDefaults(DeploymentProfile.DEVELOPMENT).sink.memorySize).toBe(512);
});
