// Reading a database user's credentials from Secrets Manager (the admin and replication secrets).
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BootstrapError, type Credentials } from '../../contract/replication-bootstrap';

export async function readCredentials(secrets: SecretsManagerClient, secretArn: string): Promise<Credentials> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!out.SecretString) throw new BootstrapError(`Secret ${secretArn} has no SecretString.`);
  const parsed = JSON.parse(out.SecretString) as Partial<Credentials>;
  if (!parsed.username || typeof parsed.password !== 'string') throw new BootstrapError(`Secret ${secretArn} must hold a JSON object with 'username' and 'password'.`);
  return { username: parsed.username, password: parsed.password };
}
