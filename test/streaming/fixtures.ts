// Test fixtures: a network, a cluster and a stand-in CDC source (the source layer's class is adapted to ICdcSource at integration).
import { CfnWaitConditionHandle, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AgentNetwork } from '../../constructs/common/agent-network';
import { CdcEngine, ICdcSource } from '../../constructs/streaming';

export function network(stack: Stack, maxAzs = 3): ec2.IVpc {
  return new AgentNetwork(stack, 'Net', { maxAzs }).vpc;
}

export interface FakeSource extends ICdcSource {
  readonly securityGroup: ec2.SecurityGroup;
  readonly secret: secretsmanager.Secret;
  readonly bootstrap: CfnWaitConditionHandle;
}

export function fakeSource(stack: Stack, vpc: ec2.IVpc, engine: CdcEngine, overrides: Partial<ICdcSource> = {}): FakeSource {
  const securityGroup = new ec2.SecurityGroup(stack, 'DbSecurityGroup', { vpc, allowAllOutbound: false });
  const secret = new secretsmanager.Secret(stack, 'ReplicationSecret', {
    generateSecretString: { secretStringTemplate: JSON.stringify({ username: 'debezium' }), generateStringKey: 'password', excludePunctuation: true },
  });
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'Test stand-in for the source layer secret, which owns rotation.' });
  const bootstrap = new CfnWaitConditionHandle(stack, 'ReplicationBootstrap');
  return {
    engine,
    endpointAddress: 'shop-db.cluster-abc.us-east-1.rds.amazonaws.com',
    endpointPort: engine === 'postgres' ? 5432 : 3306,
    databaseName: 'shop',
    tables: engine === 'postgres' ? ['public.orders', 'public.customers'] : ['orders', 'shop.customers'],
    replicationUsername: 'debezium',
    replicationSecret: secret,
    publicationName: engine === 'postgres' ? 'agent_publication' : undefined,
    slotName: engine === 'postgres' ? 'agent_slot' : undefined,
    heartbeatActionQuery: engine === 'postgres' ? 'INSERT INTO agent_heartbeat (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = now()' : undefined,
    connections: new ec2.Connections({ securityGroups: [securityGroup] }),
    dependable: bootstrap,
    securityGroup,
    secret,
    bootstrap,
    ...overrides,
  } as FakeSource;
}
