// Which DB instance classes RDS accepts Performance Insights on, per engine (the AWS page is cited in docs/source.md).
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { SourceEngine, SourceEngineFamily } from '../engine';

/** AWS documentation page listing the instance classes each engine refuses Performance Insights / Database Insights on. */
export const PERFORMANCE_INSIGHTS_SUPPORT_PAGE = {
  rds: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DatabaseInsights.Engines.html',
  aurora: 'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_DatabaseInsights.Engines.html',
};

/**
 * Why Performance Insights cannot be turned on for `engine` on `instanceType`, or undefined when it can.
 * RDS for MySQL (and MariaDB): not on db.t2/t3/t4g micro and small. Aurora MySQL: not on any db.t2 or db.t3, nor on
 * db.t4g micro and small. PostgreSQL (RDS and Aurora): no instance class restriction.
 */
export function performanceInsightsUnsupportedReason(engine: SourceEngine, instanceType: ec2.InstanceType): string | undefined {
  if (engine.family !== SourceEngineFamily.MYSQL) return undefined;
  const name = instanceType.toString();
  const [family, size] = name.split('.');
  const smallBurstable = ['t2', 't3', 't4g'].includes(family) && ['micro', 'small'].includes(size);
  if (!engine.isAurora && smallBurstable) {
    return `RDS for MySQL does not support Performance Insights on db.${name} (not on db.t2, db.t3 or db.t4g micro and small; `
      + `${PERFORMANCE_INSIGHTS_SUPPORT_PAGE.rds})`;
  }
  if (engine.isAurora && (family === 't2' || family === 't3' || smallBurstable)) {
    return `Aurora MySQL does not support Performance Insights on db.${name} (not on any db.t2 or db.t3, nor on db.t4g micro and small; `
      + `${PERFORMANCE_INSIGHTS_SUPPORT_PAGE.aurora})`;
  }
  return undefined;
}
