// The engines CdcSourceDatabase can run, each with the RDS engine it maps to and the family the bootstrap speaks.
import * as rds from 'aws-cdk-lib/aws-rds';

/** The SQL dialect and CDC mechanism of a source: PostgreSQL logical decoding or the MySQL binlog. */
export enum SourceEngineFamily {
  /** PostgreSQL: logical decoding with the `pgoutput` plugin, a publication and a replication slot. */
  POSTGRESQL = 'postgresql',
  /** MySQL: row-based binary log read by a replication client. */
  MYSQL = 'mysql',
}

/**
 * The database engine behind a `CdcSourceDatabase`: RDS for PostgreSQL / MySQL (a DB instance)
 * or Aurora PostgreSQL / MySQL (a DB cluster).
 */
export class SourceEngine {
  /** RDS for PostgreSQL, a single DB instance (Multi-AZ by default). @default version PostgreSQL 17 (RDS picks the newest minor) */
  public static postgres(version: rds.PostgresEngineVersion = rds.PostgresEngineVersion.VER_17): SourceEngine {
    return new SourceEngine(SourceEngineFamily.POSTGRESQL, false, version.postgresMajorVersion,
      rds.DatabaseInstanceEngine.postgres({ version }), undefined);
  }

  /** Aurora PostgreSQL, a DB cluster with one writer. @default version Aurora PostgreSQL 17.9 */
  public static auroraPostgres(version: rds.AuroraPostgresEngineVersion = rds.AuroraPostgresEngineVersion.VER_17_9): SourceEngine {
    return new SourceEngine(SourceEngineFamily.POSTGRESQL, true, version.auroraPostgresMajorVersion,
      undefined, rds.DatabaseClusterEngine.auroraPostgres({ version }));
  }

  /** RDS for MySQL, a single DB instance (Multi-AZ by default). @default version MySQL 8.4.10 */
  public static mysql(version: rds.MysqlEngineVersion = rds.MysqlEngineVersion.VER_8_4_10): SourceEngine {
    return new SourceEngine(SourceEngineFamily.MYSQL, false, version.mysqlMajorVersion,
      rds.DatabaseInstanceEngine.mysql({ version }), undefined);
  }

  /** Aurora MySQL, a DB cluster with one writer. @default version Aurora MySQL 3.12.0 (MySQL 8.0 compatible) */
  public static auroraMysql(version: rds.AuroraMysqlEngineVersion = rds.AuroraMysqlEngineVersion.VER_3_12_0): SourceEngine {
    return new SourceEngine(SourceEngineFamily.MYSQL, true, version.auroraMysqlMajorVersion,
      undefined, rds.DatabaseClusterEngine.auroraMysql({ version }));
  }

  private constructor(
    /** PostgreSQL or MySQL. */
    public readonly family: SourceEngineFamily,
    /** True for Aurora (a DB cluster), false for an RDS DB instance. */
    public readonly isAurora: boolean,
    /** The major version, e.g. `17` or `8.0` (Aurora MySQL 3 reports `8.0`). */
    public readonly majorVersion: string,
    /** The RDS instance engine, for RDS engines. */
    public readonly instanceEngine: rds.IInstanceEngine | undefined,
    /** The RDS cluster engine, for Aurora engines. */
    public readonly clusterEngine: rds.IClusterEngine | undefined,
  ) {}

  /** The engine's default port (5432 or 3306). */
  public get defaultPort(): number {
    return this.family === SourceEngineFamily.POSTGRESQL ? 5432 : 3306;
  }

  /** A short name for messages, e.g. `Aurora PostgreSQL 17`. */
  public toString(): string {
    const name = this.family === SourceEngineFamily.POSTGRESQL ? 'PostgreSQL' : 'MySQL';
    return `${this.isAurora ? 'Aurora ' : 'RDS for '}${name} ${this.majorVersion}`;
  }
}
