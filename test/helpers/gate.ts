// Synthesizes an app under the validation gate and returns every unacknowledged finding (empty means clean).
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { GatePack, GateScan, scanTemplates } from '../../lib/validation-gate';

export interface GateFinding {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly paths: string[];
  readonly description: string;
}

/**
 * Runs `app.synth()` and reads the validation report. Synthesis throws when a finding is not
 * acknowledged; the findings are returned instead so a test can print them all.
 */
export function gateFindings(app: App): GateFinding[] {
  let error: unknown;
  try {
    app.synth();
  } catch (e) {
    error = e;
  }
  const reportPath = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(reportPath)) {
    if (error) throw error;
    return [];
  }
  const report = JSON.parse(fs.readFileSync(reportPath, 'utf8'));
  const findings: GateFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    for (const v of plugin.violations ?? []) {
      const paths = (v.violatingConstructs ?? v.violatingResources ?? []).map((c: any) => c.constructPath ?? c.resourceLogicalId);
      findings.push({ plugin: plugin.pluginName, rule: v.ruleName, severity: v.severity, paths, description: v.description });
    }
  }
  if (error && findings.length === 0) throw error;
  return findings;
}

/** A readable list of findings for a failing expectation. */
export function formatFindings(findings: GateFinding[]): string {
  return findings.map(f => `${f.plugin} ${f.rule} (${f.severity}) at ${f.paths.join(', ')}: ${f.description}`).join('\n');
}

/** Synthesizes `app` (without the gate) and scans its templates with `packs`. */
export function scanApp(app: App, packs: readonly GatePack[]): GateScan {
  const assembly = app.synth();
  return scanTemplates({
    appConstruct: app,
    stackTemplates: assembly.stacks.map(s => ({ stackConstructPath: s.hierarchicalId, templatePath: s.templateFullPath })),
  }, packs);
}

/**
 * Why each NIST 800-53 R5 finding that remains on the example is accepted. NIST runs in a test, not in the gate: a
 * rule that fires without a reason here fails that test, and docs/SECURITY.md prints this table.
 */
export const NIST_ACCEPTED: Readonly<Record<string, string>> = {
  'NIST.800.53.R5-CloudWatchLogGroupEncrypted': 'CloudWatch Logs encrypts every log group at rest with a service key; the log groups hold diagnostics (function, broker, connector, Flink, OpenSearch and flow logs), and reading them needs logs:GetLogEvents.',
  'NIST.800.53.R5-EC2RestrictedCommonPorts': 'The rule cannot evaluate an ingress rule whose peer is another security group (it throws on the intrinsic); these rules admit only the named security groups (rotation, bootstrap, connector) to the database port, never a CIDR.',
  'NIST.800.53.R5-EC2RestrictedSSH': 'Same ingress rules as EC2RestrictedCommonPorts: the rule throws on a security-group peer; no rule in the stack opens port 22.',
  'NIST.800.53.R5-IAMNoInlinePolicy': 'Each role\'s policy is created for that role alone by its construct\'s grant methods (least privilege per function); managed policies would be shared and broader.',
  'NIST.800.53.R5-LambdaConcurrency': 'The production MCP server reserves 50 (`mcpOptions.reservedConcurrentExecutions`); the others are left to the caller: the event source mapping\'s pollers bound the sink, deploy-time handlers run once per stack operation, a development account often cannot reserve (Lambda keeps 100 unreserved), and a reservation would take capacity from the account.',
  'NIST.800.53.R5-LambdaDLQ': 'No function is invoked asynchronously with data: the sink is invoked synchronously by its event source mapping (records it cannot write go to the dead-letter bucket), the MCP server synchronously by its callers, and the rest by CloudFormation during deployments.',
  'NIST.800.53.R5-LambdaInsideVPC': 'The functions outside the VPC run only during deployments and call only AWS control-plane APIs (aws-cdk-lib\'s singletons and the Provider framework of the deploy-time builders); every function that reaches a store or broker is in the VPC.',
  'NIST.800.53.R5-RDSEnhancedMonitoringEnabled': 'Enhanced Monitoring is off; the stack alarms on CloudWatch RDS metrics and the replication slot or binlog lag.',
  'NIST.800.53.R5-RDSInBackupPlan': 'The database uses RDS automated backups (7 days by default) rather than AWS Backup; it is a CDC source whose copy in the stores can be rebuilt from a snapshot.',
  'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled': 'Development profile only: a disposable database (removalPolicy DESTROY); the production profile keeps deletion protection.',
  'NIST.800.53.R5-RDSMultiAZSupport': 'Development profile only: a single-AZ database for cost; the production profile is Multi-AZ.',
  'NIST.800.53.R5-S3BucketReplicationEnabled': 'Dead letters are expired after their retention and replayed in the same Region; artifacts are rebuilt from Maven Central and PyPI at deploy time; access logs are kept in their Region. Cross-Region replication would copy personal data to a second Region.',
  'NIST.800.53.R5-S3DefaultEncryptionKMS': 'SSE-S3 on the artifact buckets (public open-source JARs) and on the server access log buckets (S3 log delivery targets); the dead-letter bucket, which holds records, uses a customer-managed KMS key.',
  'NIST.800.53.R5-S3BucketVersioningEnabled': 'The warehouse data bucket: Iceberg snapshots are the versions of its tables (kept for the snapshot retention), and S3 versioning would keep every file that compaction and snapshot expiry remove.',
  'NIST.800.53.R5-SecretsManagerRotationEnabled': 'The replication user\'s secret: no rotation function changes that database password together with the secret, so a scheduled rotation would leave them apart and fail the connector\'s next start (docs/source.md); the admin secret is rotated every 30 days.',
  'NIST.800.53.R5-SecretsManagerUsingKMSKey': 'The database secrets use the AWS managed key aws/secretsmanager; reading them needs secretsmanager:GetSecretValue, which only the bootstrap, the rotation function and MSK Connect\'s role hold.',
  'NIST.800.53.R5-VPCDefaultSecurityGroupClosed': 'False positive: the default security group\'s rules are removed at deploy time by aws-cdk-lib\'s restrictDefaultSecurityGroup custom resource, which the rule cannot see in the template.',
  'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW': 'The public subnets route 0.0.0.0/0 to the internet gateway for their NAT gateways only; no workload is placed in them.',
  'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled': 'Public subnets hold only NAT gateways (Elastic IPs); every workload is in private or isolated subnets.',
};

/** The generated part of docs/SECURITY.md: counts per pack and profile, and the accepted NIST findings per rule. */
export function renderScanResults(results: ReadonlyArray<{ profile: string; pack: GatePack; scan: GateScan }>): string {
  const lines = [
    '| Pack | Profile | Findings | Acknowledged in code | Unacknowledged |',
    '| --- | --- | ---: | ---: | ---: |',
    ...results.map(r => `| ${r.pack} | ${r.profile} | ${r.scan.findings.length} | ${r.scan.findings.length - r.scan.unacknowledged.length} | ${r.scan.unacknowledged.length} |`),
    '',
    'NIST 800-53 R5 (run by `test/gate/security-doc.test.ts`, not by the gate): the findings per rule and why each is accepted.',
    '',
    '| Rule | development | production | Why it is accepted |',
    '| --- | ---: | ---: | --- |',
  ];
  const nist = results.filter(r => r.pack === GatePack.NIST_800_53_R5);
  const rules = [...new Set(nist.flatMap(r => r.scan.unacknowledged.map(f => f.rule)))].sort();
  for (const rule of rules) {
    const count = (profile: string) => nist.find(r => r.profile === profile)?.scan.unacknowledged.filter(f => f.rule === rule).length ?? 0;
    lines.push(`| ${rule} | ${count('development')} | ${count('production')} | ${NIST_ACCEPTED[rule] ?? '(no reason: add one to NIST_ACCEPTED in test/helpers/gate.ts)'} |`);
  }
  return lines.join('\n');
}
