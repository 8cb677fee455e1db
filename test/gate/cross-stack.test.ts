// The gate over an app whose constructs span two stacks: the connector and the sink in one, the network, cluster, source
// database and cache they reach in the other, with weak (Fn::GetStackOutput) and strong (Fn::ImportValue) references.
import * as fs from 'fs';
import * as path from 'path';
import { Fn, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  AgentCache, AgentNetwork, AgentSink, AgentStreamingCluster, AgentView, CdcSourceDatabase, DebeziumConnector, DebeziumPlugin,
  SourceEngine, ViewFieldType, ViewStore,
} from '../../index';
import { AgentFunction } from '../../constructs/common/agent-function';
import { GatePack, GateScan, scanTemplates } from '../../lib/validation-gate';
import { TEST_ENV, testApp, testStack } from '../helpers/app';
import { scanApp } from '../helpers/gate';

const CROSS_STACK_REFERENCES = '@aws-cdk/core:defaultCrossStackReferences';

function twoStackApp(strength: 'weak' | 'strong') {
  const app = testApp({ context: { [CROSS_STACK_REFERENCES]: strength } });
  const base = new Stack(app, 'Base', { env: TEST_ENV });
  const vpc = new AgentNetwork(base, 'Net').vpc;
  const cluster = new AgentStreamingCluster(base, 'Kafka', { vpc });
  const source = new CdcSourceDatabase(base, 'Source', { vpc, engine: SourceEngine.postgres(), databaseName: 'shop', tables: ['public.customers'] });
  const cache = new AgentCache(base, 'Cache', { vpc });
  const apps = new Stack(app, 'Apps', { env: TEST_ENV });
  new DebeziumConnector(apps, 'Cdc', {
    cluster, source: source.toCdcSource(), plugin: new DebeziumPlugin(apps, 'Plugin', { engine: 'postgres' }), topicPrefix: 'shop',
  });
  const customer = new AgentView({
    name: 'customer', description: 'A customer by id', topic: 'shop.public.customers', sourceTable: 'public.customers',
    key: ['id'], fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }], store: ViewStore.CACHE,
  });
  new AgentSink(apps, 'Sink', { cluster, cache, views: [customer] });
  // A pattern grant of the cluster to a principal of the other stack.
  cluster.grantRead(new iam.Role(apps, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }), 'shop.public.*', 'readers-*');
  return app;
}

const PACKS = [GatePack.AWS_SOLUTIONS, GatePack.CONTROL_TOWER];
const unacknowledged = (scan: GateScan) => scan.unacknowledged.map(f => `${f.rule} ${f.constructPath}`);
const stale = (scan: GateScan) => scan.stale.map(a => `${a.rule} ${a.path}`);
const kafkaPatterns = (scan: GateScan, under: string) => scan.findings
  .filter(f => f.rule.startsWith('AwsSolutions-IAM5[Resource::arn:aws:kafka:') && f.constructPath.startsWith(under));
const connectorPatterns = (scan: GateScan) => kafkaPatterns(scan, 'Apps/Cdc/');

describe('the gate over a two-stack app', () => {
  test('weak references: the template holding Fn::GetStackOutput is scanned, with the same findings as strong references', () => {
    const app = twoStackApp('weak');
    const scan = scanApp(app, PACKS);
    const apps = fs.readFileSync(app.synth().getStackByName('Apps').templateFullPath, 'utf8');
    expect(apps).toContain('Fn::GetStackOutput');
    expect(unacknowledged(scan)).toEqual([]);
    expect(stale(scan)).toEqual([]);
    // MSK Connect's internal topics and groups (2 + 3), named through the opaque import the scan loads.
    expect(connectorPatterns(scan).map(f => f.rule)).toHaveLength(5);
    expect(connectorPatterns(scan).every(f => f.rule.includes('"Fn::ImportValue":"Fn::GetStackOutput:us-east-1:Base:') && f.acknowledgedBy)).toBe(true);

    const strong = scanApp(twoStackApp('strong'), PACKS);
    const shape = (s: GateScan) => s.findings.map(f => `${f.rule.replace(/\{.*\}/, '<cluster uuid>')} ${f.constructPath}`).sort();
    expect(shape(scan)).toEqual(shape(strong));
  });

  test('strong references: the connector\'s pattern grants are acknowledged as imports, and the sink\'s imported subnets pass', () => {
    const scan = scanApp(twoStackApp('strong'), PACKS);
    expect(unacknowledged(scan)).toEqual([]);
    expect(stale(scan)).toEqual([]);
    expect(connectorPatterns(scan)).toHaveLength(5);
    expect(connectorPatterns(scan).every(f => f.rule.includes('{"Fn::ImportValue":"Base:ExportsOutputFnGetAttKafka') && f.acknowledgedBy)).toBe(true);
    // The reader's topic and group patterns.
    expect(kafkaPatterns(scan, 'Apps/Reader/').map(f => [f.rule.replace(/\{.*\}/, '<cluster uuid>'), f.acknowledgedBy?.path])).toEqual([
      ['AwsSolutions-IAM5[Resource::arn:aws:kafka:us-east-1:123456789012:topic/Base-Kafka-79636235/<cluster uuid>/shop.public.*]', 'Apps/Reader'],
      ['AwsSolutions-IAM5[Resource::arn:aws:kafka:us-east-1:123456789012:group/Base-Kafka-79636235/<cluster uuid>/readers-*]', 'Apps/Reader'],
    ]);
    // CT.LAMBDA.PR.3 reads a subnet id only as a string or a local Ref/GetAtt; the sink is in the VPC, its subnets imported.
    const pr3 = scan.findings.find(f => f.rule === 'ControlTower-CT.LAMBDA.PR.3' && f.constructPath === 'Apps/Sink/Function/Resource');
    expect(pr3?.acknowledgedBy?.reason).toMatch(/^The function is in the VPC \(VpcConfig names 2 subnets and 1 security groups\), but its subnet ids come from another stack/);
  });
});

describe('CT.LAMBDA.PR.3 on a function in a VPC', () => {
  function scanFunction(subnetIds: string[]): GateScan {
    const app = testApp();
    const stack = testStack(app);
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: subnetIds,
      privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60002'],
    });
    new AgentFunction(stack, 'Fn', { handlerName: 'noop', entry: path.join(__dirname, '..', 'fixtures', 'noop-handler.ts'), description: 'fn', vpc });
    return scanApp(app, [GatePack.CONTROL_TOWER]);
  }
  const onFunction = (scan: GateScan) => scan.findings.filter(f => f.constructPath === 'TestStack/Fn/Resource');

  test('subnet ids the rule cannot read (imports) are acknowledged on the function', () => {
    const scan = scanFunction([Fn.importValue('SubnetA'), Fn.importValue('SubnetB')]);
    expect(onFunction(scan).map(f => [f.rule, f.acknowledgedBy?.path])).toEqual([['ControlTower-CT.LAMBDA.PR.3', 'TestStack/Fn/Resource']]);
    expect(stale(scan)).toEqual([]);
  });

  test('subnet ids the rule reads are not reported and not acknowledged (no stale acknowledgment)', () => {
    const scan = scanFunction(['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002']);
    expect(onFunction(scan)).toEqual([]);
    expect(stale(scan)).toEqual([]);
  });

  const fn = (scope: Construct, id: string, vpc: ec2.IVpc) =>
    new AgentFunction(scope, id, { handlerName: 'noop', entry: path.join(__dirname, '..', 'fixtures', 'noop-handler.ts'), description: id, vpc });
  const importedVpc = (scope: Construct) => ec2.Vpc.fromVpcAttributes(scope, 'Imported', {
    vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: [Fn.importValue('SubnetA'), Fn.importValue('SubnetB')],
    privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60002'],
  });
  const pr3 = (scan: GateScan) => scan.findings.filter(f => f.rule === 'ControlTower-CT.LAMBDA.PR.3' && /^TestStack\/(Local\d*|Remote)\//.test(f.constructPath))
    .map(f => `${f.constructPath} ${f.acknowledgedBy ? 'acknowledged' : 'UNACKNOWLEDGED'}`).sort();

  test('in one stack, functions in its own subnets (Ref) pass unacknowledged and those in imported subnets are acknowledged, from one walk of the tree', () => {
    const build = (functions: number) => {
      const app = testApp();
      const stack = testStack(app);
      const vpc = new AgentNetwork(stack, 'Net').vpc;
      for (let i = 0; i < functions; i++) fn(stack, `Local${i}`, vpc);
      fn(stack, 'Remote', importedVpc(stack));
      const walks = jest.spyOn(stack.node, 'findAll');
      app.synth();
      return { app, walks: walks.mock.calls.length };
    };
    const few = build(2);
    const scan = scanApp(few.app, [GatePack.CONTROL_TOWER]);
    expect(pr3(scan)).toEqual(['TestStack/Remote/Resource acknowledged']);
    expect(stale(scan)).toEqual([]);
    expect(unacknowledged(scan).filter(f => f.includes('LAMBDA'))).toEqual([]);
    // The lookup is built once per stack and synthesis: the stack's tree is walked as often with 6 functions as with 2.
    expect(build(6).walks).toBe(few.walks);
  });

  test('a function added after a first synth, in subnets added with it, is decided on the tree of its own synth', () => {
    const app = testApp();
    const stack = testStack(app);
    fn(stack, 'Remote', importedVpc(stack));
    app.synth();
    fn(stack, 'Local', new AgentNetwork(stack, 'Net').vpc);
    const assembly = app.synth({ force: true });
    const scan = scanTemplates({
      appConstruct: app, stackTemplates: assembly.stacks.map(s => ({ stackConstructPath: s.hierarchicalId, templatePath: s.templateFullPath })),
    }, [GatePack.CONTROL_TOWER]);
    expect(pr3(scan)).toEqual(['TestStack/Remote/Resource acknowledged']);
    expect(stale(scan)).toEqual([]);
  });
});
