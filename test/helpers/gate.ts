// Synthesizes an app under the validation gate and returns every unacknowledged finding (empty means clean).
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';

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
