// CloudFormation custom resource events and a mocked Secrets Manager for the bootstrap handler tests.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { BootstrapProperties } from '../../../contract/replication-bootstrap';

export const ADMIN_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:admin-AbCdEf';
export const REPLICATION_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:replication-AbCdEf';

/** Secrets Manager answering GetSecretValue for the admin and replication secrets only. */
export function mockSecrets(admin: { username: string; password: string }, replication: { username: string; password: string }) {
  const mock = mockClient(SecretsManagerClient);
  mock.on(GetSecretValueCommand, { SecretId: ADMIN_SECRET_ARN }).resolves({ SecretString: JSON.stringify(admin) });
  mock.on(GetSecretValueCommand, { SecretId: REPLICATION_SECRET_ARN }).resolves({ SecretString: JSON.stringify({ ...replication, engine: 'x', host: 'h' }) });
  return { mock, client: new SecretsManagerClient({ region: 'us-east-1' }) };
}

/** `<stack name>/<logical id>` of the events below, which the bootstrap's physical ids end with. */
export const BOOTSTRAP_OWNER = 'Test/Bootstrap';

const base = {
  ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:provider',
  ResponseURL: 'https://example.invalid/response',
  StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Test/guid',
  RequestId: 'request-1',
  LogicalResourceId: 'Bootstrap',
  ResourceType: 'Custom::CdcReplicationBootstrap',
};

export function createEvent(props: BootstrapProperties): CloudFormationCustomResourceEvent {
  return { ...base, RequestType: 'Create', ResourceProperties: { ServiceToken: base.ServiceToken, ...props } } as CloudFormationCustomResourceEvent;
}

export function updateEvent(physicalId: string, props: BootstrapProperties, old: BootstrapProperties): CloudFormationCustomResourceEvent {
  return {
    ...base, RequestType: 'Update', PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: base.ServiceToken, ...props },
    OldResourceProperties: { ServiceToken: base.ServiceToken, ...old },
  } as CloudFormationCustomResourceEvent;
}

export function deleteEvent(physicalId: string, props: BootstrapProperties): CloudFormationCustomResourceEvent {
  return {
    ...base, RequestType: 'Delete', PhysicalResourceId: physicalId,
    ResourceProperties: { ServiceToken: base.ServiceToken, ...props },
  } as CloudFormationCustomResourceEvent;
}
