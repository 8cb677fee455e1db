// DatabaseTls: how the Debezium connector's database connection is secured, and whether it verifies the server certificate.
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** Where the connector reads the CA it verifies the database against (fetched by the S3 import config provider). */
export interface DatabaseTlsTrustOptions {
  /** Bucket holding the trust material. */
  readonly bucket: s3.IBucket;
  /**
   * Object key. PostgreSQL: a PEM CA bundle (for RDS, the global bundle from
   * https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem). MySQL: a JKS or PKCS12 truststore holding it.
   */
  readonly key: string;
  /**
   * MySQL only: the secret whose JSON key `password` opens the truststore.
   * @default - none (required for MySQL)
   */
  readonly truststorePassword?: secretsmanager.ISecret;
}

/** The TLS mode of the connector's database connection. */
export class DatabaseTls {
  /**
   * Encrypted, but the server certificate is not verified (`database.sslmode=require` / `database.ssl.mode=required`):
   * protects against passive eavesdropping, not against a host that impersonates the database inside the VPC.
   */
  public static encryptedUnverified(): DatabaseTls {
    return new DatabaseTls(false);
  }
  /**
   * Encrypted and verified: PostgreSQL `sslmode=verify-full` with `sslrootcert`, MySQL `ssl.mode=verify_identity` with
   * `ssl.truststore`. The workers copy the object from S3 at start through the msk-config-providers S3 import
   * provider (already in the plugin), so they must reach S3 (NAT or an S3 gateway endpoint).
   */
  public static verifyServer(trust: DatabaseTlsTrustOptions): DatabaseTls {
    return new DatabaseTls(true, trust);
  }
  private constructor(public readonly verify: boolean, public readonly trust?: DatabaseTlsTrustOptions) {}
}
