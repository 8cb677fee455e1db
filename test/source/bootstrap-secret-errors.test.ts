// Secrets in the bootstrap's errors: a malformed secret, and a refused CREATE USER, must not carry a password into the
// error the provider framework copies into the CloudFormation stack event (Reason) or the Lambda runtime logs.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { BootstrapError, onEvent } from '../../lambda/replication-bootstrap';
import { readCredentials } from '../../lambda/replication-bootstrap/credentials';
import { ADMIN_SECRET_ARN, createEvent, REPLICATION_SECRET_ARN } from './helpers/events';

const PASSWORD = 'Sup3rS3cretAdminPassw0rd';

/** Everything of an error the provider framework or the Lambda runtime could print: message, stack, cause, enumerable properties. */
export function everythingOf(e: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  const visit = (x: unknown) => {
    if (x === undefined || x === null || seen.has(x)) return;
    seen.add(x);
    if (typeof x !== 'object') {
      parts.push(String(x));
      return;
    }
    const err = x as { message?: unknown; stack?: unknown; cause?: unknown; name?: unknown };
    parts.push(String(err.name), String(err.message), String(err.stack));
    try {
      parts.push(JSON.stringify(x));
    } catch {
      parts.push('<unserialisable>');
    }
    for (const key of Object.getOwnPropertyNames(x)) parts.push(key + '=' + String((x as Record<string, unknown>)[key]));
    visit(err.cause);
  };
  visit(e);
  return parts.join('\n');
}

describe('a malformed secret never puts its content into the error', () => {
  const malformed = [
    PASSWORD,
    `{"username":"cdc_admin","password":"${PASSWORD}",}`,
    `{'username':'cdc_admin','password':'${PASSWORD}'}`,
    `"${PASSWORD}"`,
    'null',
    `["cdc_admin","${PASSWORD}"]`,
    `{"username":"cdc_admin","password":"${PASSWORD}"`,
  ];

  test.each(malformed)('readCredentials(%#)', async secret => {
    const mock = mockClient(SecretsManagerClient);
    mock.on(GetSecretValueCommand).resolves({ SecretString: secret });
    try {
      const e = await readCredentials(new SecretsManagerClient({ region: 'us-east-1' }), ADMIN_SECRET_ARN).then(() => undefined, err => err);
      expect(e).toBeInstanceOf(BootstrapError);
      expect((e as Error).message).toContain(ADMIN_SECRET_ARN);
      expect((e as Error).message).toMatch(/JSON object with 'username' and 'password'/);
      const all = everythingOf(e);
      for (let n = 4; n <= PASSWORD.length; n++) expect(all).not.toContain(PASSWORD.slice(0, n));
      expect(all).not.toContain('S3cre');
    } finally {
      mock.restore();
    }
  });

  test('through the handler: a Create with a non-JSON admin secret fails naming the ARN only', async () => {
    const mock = mockClient(SecretsManagerClient);
    mock.on(GetSecretValueCommand, { SecretId: ADMIN_SECRET_ARN }).resolves({ SecretString: PASSWORD });
    try {
      const e = await onEvent(createEvent({
        Engine: 'postgresql', Host: '127.0.0.1', Port: '5432', Database: 'db', AdminSecretArn: ADMIN_SECRET_ARN,
        ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: 'cdc_replication', Tables: ['app.orders'],
        HeartbeatTable: 'public.debezium_heartbeat', PublicationName: 'p', SlotName: 's',
      }), { secrets: new SecretsManagerClient({ region: 'us-east-1' }), tls: false }).then(() => undefined, err => err);
      expect(e).toBeInstanceOf(BootstrapError);
      expect(everythingOf(e)).not.toContain('Sup3r');
    } finally {
      mock.restore();
    }
  });
});
