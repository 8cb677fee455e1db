// Reading a database user's credentials from Secrets Manager (the admin and replication secrets).
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BootstrapError, type Credentials } from '../../contract/replication-bootstrap';

/**
 * The secret's username and password. A malformed secret fails with a BootstrapError naming only the secret's ARN:
 * never with `JSON.parse`'s SyntaxError, whose message quotes the start of the text (the password, when the secret
 * holds a bare password), and which the provider framework would copy into the stack event's Reason.
 */
export async function readCredentials(secrets: SecretsManagerClient, secretArn: string): Promise<Credentials> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  if (!out.SecretString) throw new BootstrapError(`Secret ${secretArn} has no SecretString.`);
  const expected = `Secret ${secretArn} must hold a JSON object with 'username' and 'password' (string values)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString);
  } catch {
    // Not rethrown and not kept as `cause`: the SyntaxError quotes the secret.
    throw new BootstrapError(`${expected}; its value is not valid JSON.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BootstrapError(`${expected}; its value is JSON but not an object.`);
  }
  const { username, password } = parsed as Record<string, unknown>;
  if (typeof username !== 'string' || !username || typeof password !== 'string') throw new BootstrapError(`${expected}.`);
  return { username, password };
}
