// Secrets in the bootstrap's errors: a malformed secret, and a refused CREATE USER, must not carry a password into the
// error the provider framework copies into the CloudFormation stack event (Reason) or the Lambda runtime logs.
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import * as mysql from 'mysql2/promise';
import { BootstrapError, onEvent } from '../../lambda/replication-bootstrap';
import { readCredentials } from '../../lambda/replication-bootstrap/credentials';
import { ensureMysqlReplicationUser, mysqlNativePasswordHash } from '../../lambda/replication-bootstrap/mysql';
import { ADMIN_SECRET_ARN, createEvent, mockSecrets, REPLICATION_SECRET_ARN } from './helpers/events';
import { PrivateMariaDb, startMariaDb } from './helpers/servers';

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

describe('a refused CREATE USER never puts the password (or its hash) into the error, on MariaDB with simple_password_check', () => {
  // Letters and digits only, like the generated replication password: simple_password_check wants a special character too.
  const REPL = { username: 'cdc_replication', password: 'AbCdEfGh12345678GeneratedSecret9' };
  let server: PrivateMariaDb;
  let admin: mysql.Connection;
  let secrets: ReturnType<typeof mockSecrets>;

  beforeAll(async () => {
    server = await startMariaDb();
    admin = await mysql.createConnection({ host: '127.0.0.1', port: server.port, user: 'root' });
    await admin.query(`INSTALL SONAME 'simple_password_check'`);
    await admin.query('CREATE DATABASE shop');
    await admin.query('CREATE TABLE shop.orders (id INT PRIMARY KEY)');
    secrets = mockSecrets({ username: 'root', password: '' }, REPL);
  });
  afterAll(async () => {
    secrets.mock.restore();
    await admin.end();
    await server.stop();
  });

  function expectNoSecret(e: unknown, code: string) {
    expect(e).toBeInstanceOf(Error);
    const all = everythingOf(e);
    expect(all).not.toContain(REPL.password);
    expect(all).not.toContain(mysqlNativePasswordHash(REPL.password));
    expect(all).not.toMatch(/IDENTIFIED BY/i);
    // The server's refusal is kept: code and message say what to fix.
    expect((e as { code?: string }).code).toBe(code);
    expect((e as Error).message).toContain(code);
    expect((e as Error).message).toContain('cdc_replication');
  }

  test('MariaDB path (IDENTIFIED BY PASSWORD <hash>), through the handler', async () => {
    const e = await onEvent(createEvent({
      Engine: 'mysql', Host: '127.0.0.1', Port: String(server.port), Database: 'shop', AdminSecretArn: ADMIN_SECRET_ARN,
      ReplicationSecretArn: REPLICATION_SECRET_ARN, ReplicationUsername: REPL.username, Tables: ['shop.orders'],
      HeartbeatTable: 'shop.debezium_heartbeat', BinlogRetentionHours: '1',
    }), { secrets: secrets.client, tls: false }).then(() => undefined, err => err);
    // MariaDB's --strict-password-validation (on by default) refuses a hash it cannot check.
    expectNoSecret(e, 'ER_OPTION_PREVENTS_STATEMENT');
    expect((e as Error).message).toMatch(/strict-password-validation/);
  });

  test('MySQL path (RDS for MySQL, Aurora MySQL: IDENTIFIED BY <password>)', async () => {
    // The server answers as MySQL 8.0 to VERSION(): the statement carries the password itself, as on RDS for MySQL.
    const asMysql = {
      escape: admin.escape.bind(admin), escapeId: admin.escapeId.bind(admin),
      query: (sql: string, v?: unknown[]) => (/VERSION\(\)/.test(sql) ? Promise.resolve([[{ v: '8.0.36' }], []]) : admin.query(sql, v)),
    } as unknown as mysql.Connection;
    const e = await ensureMysqlReplicationUser(asMysql, {
      tables: ['shop.orders'], heartbeatTable: 'shop.debezium_heartbeat', replication: REPL, binlogRetentionHours: 1,
    }).then(() => undefined, err => err);
    expectNoSecret(e, 'ER_NOT_VALID_PASSWORD');
    expect((e as Error).message).toMatch(/does not satisfy the current policy requirements/);
  });
});
