// The Control Tower proactive controls an Aurora source cluster does not meet, each acknowledged only where its
// setting is absent and with the reason that setting is absent on this stack.
import { Stack, Validations } from 'aws-cdk-lib';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { SourceEngine, SourceEngineFamily } from '../engine';

/** The same reason as the RDS instance's CT.RDS.PR.2 acknowledgment: one monitoring choice for every source engine. */
const NO_ENHANCED_MONITORING = 'Enhanced Monitoring (an extra role and per-second OS metrics billed as CloudWatch Logs) is not enabled; '
  + 'the stack alarms on the CloudWatch RDS metrics and the replication slot or binlog lag instead.';

/**
 * CT.RDS.PR.2 on each cluster instance without Enhanced Monitoring, CT.RDS.PR.3 on a cluster without deletion
 * protection (the caller's disposable choice), and CT.RDS.PR.6 on an Aurora MySQL cluster without a backtrack window:
 * backtracking writes no binlog entries, so Debezium, which reads the binlog, would never see the rewind.
 */
export function acknowledgeAuroraControls(database: Construct, engine: SourceEngine): void {
  for (const c of database.node.findAll()) {
    if (c instanceof rds.CfnDBInstance && !Stack.of(c).resolve(c.monitoringInterval)) {
      Validations.of(c).acknowledge({ id: 'ControlTower-CT.RDS.PR.2', reason: NO_ENHANCED_MONITORING });
    }
    if (!(c instanceof rds.CfnDBCluster)) continue;
    const resolved = Stack.of(c).resolve({ deletionProtection: c.deletionProtection, backtrack: c.backtrackWindow });
    if (resolved.deletionProtection !== true) {
      Validations.of(c).acknowledge({
        id: 'ControlTower-CT.RDS.PR.3',
        reason: 'deletionProtection is off: the caller (the development profile) opted into a disposable database; the default is RETAIN with deletion protection.',
      });
    }
    if (engine.family === SourceEngineFamily.MYSQL && !resolved.backtrack) {
      Validations.of(c).acknowledge({
        id: 'ControlTower-CT.RDS.PR.6',
        reason: 'Backtracking is off: a backtrack generates no binlog entries (Aurora User Guide, "Performing a backtrack"), so the '
          + 'Debezium connector, which reads the binlog, would keep serving rows the database no longer has.',
      });
    }
  }
}
