// The deployed example creates its own tables: the example's synthesized bootstrap properties, run on a real empty PostgreSQL.
import * as fs from 'fs';
import { Client } from 'pg';
import { EXAMPLE_SCHEMA_FILE } from '../../bin/example';
import { EXAMPLE_SCHEMA_SQL } from '../../cli/dev/dev-loop';
import { BootstrapProperties, onEvent } from '../../lambda/replication-bootstrap';
import { publicationTables } from '../../lambda/replication-bootstrap/postgres';
import { exampleTemplate } from '../helpers/example-template';
import { ADMIN_SECRET_ARN, createEvent, mockSecrets, REPLICATION_SECRET_ARN } from './helpers/events';
import { PrivatePostgres, startPostgres } from './helpers/servers';

/** The example's `Custom::CdcReplicationBootstrap` properties, as the development profile synthesizes them. */
function exampleBootstrapProperties(): Record<string, unknown> {
  const resources = exampleTemplate('development').findResources('Custom::CdcReplicationBootstrap');
  const [resource] = Object.values(resources);
  return resource.Properties;
}

describe('the example ships cli/dev/example-schema.sql to its new database', () => {
  let server: PrivatePostgres;
  let properties: Record<string, unknown>;
  beforeAll(async () => {
    properties = exampleBootstrapProperties();
    server = await startPostgres('logical');
  });
  afterAll(async () => { await server.stop(); });

  test('the deployed example and the dev loop use one schema file', () => {
    expect(fs.realpathSync(EXAMPLE_SCHEMA_FILE)).toBe(fs.realpathSync(EXAMPLE_SCHEMA_SQL));
    expect(properties.InitialSchemaSql).toBe(fs.readFileSync(EXAMPLE_SCHEMA_SQL, 'utf8'));
  });

  test('its bootstrap, run on an empty `shop` database, creates the tables and sets up capture instead of failing', async () => {
    const root = new Client({ host: '127.0.0.1', port: server.port, database: 'postgres', user: server.user, password: server.password });
    await root.connect();
    await root.query('CREATE DATABASE shop');
    await root.end();
    // The template's own values, except what only exists in AWS (endpoint, secret ARNs).
    const p = {
      ...properties, ServiceToken: undefined, Host: '127.0.0.1', Port: String(server.port),
      AdminSecretArn: ADMIN_SECRET_ARN, ReplicationSecretArn: REPLICATION_SECRET_ARN,
    } as unknown as BootstrapProperties;
    expect(p.Database).toBe('shop');
    const secrets = mockSecrets({ username: server.user, password: server.password }, { username: p.ReplicationUsername, password: 'Example1Replication2Password' });
    const shop = new Client({ host: '127.0.0.1', port: server.port, database: 'shop', user: server.user, password: server.password });
    await shop.connect();
    try {
      await onEvent(createEvent(p), { secrets: secrets.client, tls: false });
      expect(await publicationTables(shop, p.PublicationName!)).toEqual(
        ['public.customers', 'public.debezium_heartbeat', 'public.debezium_signal', 'public.orders', 'public.support_tickets']);
      const seeded = await shop.query('SELECT (SELECT count(*)::int FROM public.customers) AS customers, (SELECT count(*)::int FROM public.orders) AS orders');
      expect(seeded.rows[0]).toEqual({ customers: 3, orders: 3 });
      // The transform's tables got REPLICA IDENTITY FULL on the tables the schema just created.
      const full = await shop.query(`SELECT relname FROM pg_class WHERE relreplident = 'f' AND relnamespace = 'public'::regnamespace ORDER BY 1`);
      expect(full.rows.map(r => r.relname)).toEqual([...(p.FullRowImageTables ?? [])].map(t => t.split('.')[1]).sort());
    } finally {
      secrets.mock.restore();
      await shop.end();
    }
  });
});
