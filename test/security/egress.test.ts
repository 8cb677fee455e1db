// Egress of every security group in the example stack, both profiles: exactly the rules each construct declares, never EC2's allow-all.
import { exampleTemplate } from '../helpers/example-template';

const PROFILES = ['development', 'production'] as const;

/** CDK's inline "no traffic" rule: its presence keeps CloudFormation from creating the group with EC2's allow-all egress. */
const NONE = 'none';
const HTTPS_ANYWHERE = 'tcp 443 -> 0.0.0.0/0';
const DB_PORT = 'tcp Source.Endpoint.Port -> SourceSecurityGroup';

/** Per security group (logical id without its hash): every egress rule, inline or a separate AWS::EC2::SecurityGroupEgress. */
const EXPECTED: Record<string, string[]> = {
  // Stores and endpoints start no connections: no egress at all.
  SourceSecurityGroup: [NONE],
  CacheSecurityGroup: [NONE],
  SearchSecurityGroup: [NONE],
  SearchBedrockRuntimeEndpointSecurityGroup: [NONE],
  // The admin-secret rotation function and the replication bootstrap: Secrets Manager over HTTPS, and the database.
  SourceRotationSingleUserSecurityGroup: [DB_PORT, HTTPS_ANYWHERE],
  SourceBootstrapProviderOnEventSecurityGroup: [DB_PORT, HTTPS_ANYWHERE],
  SourceBootstrapProviderFrameworkSecurityGroup: [HTTPS_ANYWHERE],
  // Brokers and the Lambda event source pollers that run in their group: each other, and Lambda/STS/S3 over HTTPS.
  KafkaSecurityGroup: ['tcp 0-65535 -> KafkaSecurityGroup', HTTPS_ANYWHERE],
  // Debezium on MSK Connect: the brokers (IAM), the database, Secrets Manager (config provider) over HTTPS.
  CdcSecurityGroup: [DB_PORT, HTTPS_ANYWHERE, 'tcp 9098 -> KafkaSecurityGroup'],
  // Flink: the brokers only, and nothing else (the placeholder keeps EC2's default out).
  TransformorderenrichmentSecurityGroup: [NONE, 'tcp 9098 -> KafkaSecurityGroup'],
  // The warehouse writer (Iceberg): the brokers, and Glue and S3 over HTTPS; the freshness probe: Athena over HTTPS.
  WarehouseWriterorderhistorySecurityGroup: [HTTPS_ANYWHERE, 'tcp 9098 -> KafkaSecurityGroup'],
  WarehouseFreshnessProbeSecurityGroup: [HTTPS_ANYWHERE],
  // The search index handler: the domain and AWS APIs.
  SearchIndexProviderOnEventSecurityGroup: [HTTPS_ANYWHERE, 'tcp 443 -> SearchSecurityGroup'],
  SearchIndexProviderFrameworkSecurityGroup: [HTTPS_ANYWHERE],
  // The sink and the MCP server: the cache, the domain, the Bedrock endpoint and AWS APIs (S3, DynamoDB, SSM) over HTTPS.
  SinkFunctionSecurityGroup: [HTTPS_ANYWHERE, 'tcp 443 -> SearchBedrockRuntimeEndpointSecurityGroup', 'tcp 443 -> SearchSecurityGroup', 'tcp 6379 -> CacheSecurityGroup'],
  McpFunctionSecurityGroup: [HTTPS_ANYWHERE, 'tcp 443 -> SearchBedrockRuntimeEndpointSecurityGroup', 'tcp 443 -> SearchSecurityGroup', 'tcp 6379 -> CacheSecurityGroup'],
};

type Resources = Record<string, { Type: string; Properties?: any }>;

const templates = new Map<string, Resources>();
function resources(profile: typeof PROFILES[number]): Resources {
  if (!templates.has(profile)) {
    templates.set(profile, exampleTemplate(profile).toJSON().Resources);
  }
  return templates.get(profile)!;
}

/** Logical ids end in an 8-character hash; the prefix is the construct path, stable across changes elsewhere. */
const prefix = (logicalId: string) => logicalId.replace(/[0-9A-F]{8}$/, '');

function render(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  const getAtt = (value as any)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return getAtt[1] === 'GroupId' ? prefix(getAtt[0]) : `${prefix(getAtt[0])}.${getAtt[1]}`;
  return JSON.stringify(value);
}

function ruleText(rule: any): string {
  if (rule.CidrIp === '255.255.255.255/32' && rule.IpProtocol === 'icmp' && rule.FromPort === 252 && rule.ToPort === 86) return NONE;
  const peer = rule.CidrIp ?? rule.CidrIpv6 ?? rule.DestinationPrefixListId ?? rule.DestinationSecurityGroupId;
  const from = render(rule.FromPort);
  const to = render(rule.ToPort);
  const ports = rule.IpProtocol === '-1' ? 'all' : from === to ? from : `${from}-${to}`;
  return `${rule.IpProtocol} ${ports} -> ${render(peer)}`;
}

interface GroupEgress {
  readonly logicalId: string;
  readonly inline: any[] | undefined;
  readonly rules: string[];
}

function egressByGroup(r: Resources): Record<string, GroupEgress> {
  const out: Record<string, GroupEgress> = {};
  for (const [logicalId, res] of Object.entries(r)) {
    if (res.Type !== 'AWS::EC2::SecurityGroup') continue;
    const inline: any[] | undefined = res.Properties.SecurityGroupEgress;
    const separate = Object.values(r)
      .filter(e => e.Type === 'AWS::EC2::SecurityGroupEgress' && e.Properties.GroupId?.['Fn::GetAtt']?.[0] === logicalId)
      .map(e => e.Properties);
    const key = prefix(logicalId);
    expect(out[key]).toBeUndefined();
    out[key] = { logicalId, inline, rules: [...(inline ?? []), ...separate].map(ruleText).sort() };
  }
  return out;
}

describe.each(PROFILES)('security group egress (%s profile)', (profile) => {
  test('every security group has exactly the egress rules its construct declares', () => {
    const actual = Object.fromEntries(Object.entries(egressByGroup(resources(profile))).map(([k, g]) => [k, g.rules]));
    const expected = Object.fromEntries(Object.entries(EXPECTED).map(([k, rules]) => [k, [...rules].sort()]));
    expect(actual).toEqual(expected);
  });

  test('no group is declared without inline egress (CloudFormation would give it EC2\'s default allow-all)', () => {
    const empty = Object.values(egressByGroup(resources(profile)))
      .filter(g => !Array.isArray(g.inline) || g.inline.length === 0)
      .map(g => g.logicalId);
    expect(empty).toEqual([]);
  });

  test('no group allows all traffic to any address, and addresses are reached only on TCP 443', () => {
    for (const [group, g] of Object.entries(egressByGroup(resources(profile)))) {
      for (const rule of g.rules) {
        expect(`${group}: ${rule}`).not.toMatch(/^[^:]+: -1 /);
        if (/-> (0\.0\.0\.0\/0|::\/0|\d+\.\d+\.\d+\.\d+\/\d+)$/.test(rule) && rule !== NONE) {
          expect(`${group}: ${rule}`).toBe(`${group}: ${HTTPS_ANYWHERE}`);
        }
      }
    }
  });

  test('the event source pollers (in the MSK group) reach the brokers and, over HTTPS, Lambda, STS and the S3 on-failure destination', () => {
    const r = resources(profile);
    const groups = egressByGroup(r);
    expect(groups.KafkaSecurityGroup.rules).toEqual(expect.arrayContaining([HTTPS_ANYWHERE, 'tcp 0-65535 -> KafkaSecurityGroup']));
    // Lambda documents NAT or PrivateLink endpoints for Lambda and STS (on-demand pollers), and an endpoint for the
    // on-failure destination's service in the cluster VPC: the example's dead letters go to S3, through its gateway endpoint.
    const nats = Object.values(r).filter(x => x.Type === 'AWS::EC2::NatGateway');
    expect(nats.length).toBeGreaterThan(0);
    const s3Gateway = Object.values(r).filter(x => x.Type === 'AWS::EC2::VPCEndpoint'
      && x.Properties.VpcEndpointType === 'Gateway' && JSON.stringify(x.Properties.ServiceName).includes('.s3'));
    expect(s3Gateway).toHaveLength(1);
    const mappings = Object.values(r).filter(x => x.Type === 'AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThan(0);
    for (const m of mappings) {
      const [destination] = m.Properties.DestinationConfig.OnFailure.Destination['Fn::GetAtt'];
      expect(r[destination].Type).toBe('AWS::S3::Bucket');
    }
  });
});
