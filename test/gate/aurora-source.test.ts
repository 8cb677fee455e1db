// An Aurora source under the full gate (AwsSolutions, Serverless, Control Tower): zero unacknowledged findings and no
// stale acknowledgment. The Aurora-only controls (CT.RDS.PR.2 on the cluster's instances, CT.RDS.PR.3 on the cluster,
// CT.RDS.PR.6 backtracking on Aurora MySQL) are acknowledged only where this stack lacks the setting.
import { Validations } from 'aws-cdk-lib';
import { SourceEngine, SourceEngineFamily } from '../../constructs/source/engine';
import { ViewFieldType, ViewStore } from '../../constructs/stores/view';
import { AgentDataStack, ViewSource } from '../../lib/agent-data-stack';
import { DeploymentProfile } from '../../lib/profiles';
import { DEFAULT_GATE_PACKS } from '../../lib/validation-gate';
import { TEST_ENV, testApp } from '../helpers/app';
import { formatFindings, gateFindings } from '../helpers/gate';

function auroraStack(engine: SourceEngine, profile: DeploymentProfile) {
  const app = testApp({ gate: DEFAULT_GATE_PACKS });
  const table = engine.family === SourceEngineFamily.MYSQL ? 'agentdata.customers' : 'public.customers';
  const stack = new AgentDataStack(app, 'AuroraSource', {
    env: TEST_ENV,
    profile,
    source: { tables: [table], engine },
    views: [{
      name: 'customer', description: 'Customers by id', from: ViewSource.table(table), store: ViewStore.CACHE, key: ['id'],
      fields: [{ name: 'id', type: ViewFieldType.INTEGER }, { name: 'name', type: ViewFieldType.STRING }],
    }],
  });
  return { app, stack };
}

const acknowledged = (stack: AgentDataStack, rule: string) => stack.node.findAll()
  .flatMap(c => c.node.metadata.filter(m => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap(m => Object.keys(m.data ?? {}).filter(k => k.endsWith(rule)).map(() => c.node.path)));

test('Aurora PostgreSQL, development profile: zero findings; the writer lacks Enhanced Monitoring, the cluster deletion protection', () => {
  const { app, stack } = auroraStack(SourceEngine.auroraPostgres(), DeploymentProfile.DEVELOPMENT);
  expect(formatFindings(gateFindings(app))).toBe('');
  expect(acknowledged(stack, 'ControlTower-CT.RDS.PR.2')).toEqual(['AuroraSource/Source/Resource/Writer/Resource']);
  expect(acknowledged(stack, 'ControlTower-CT.RDS.PR.3')).toEqual(['AuroraSource/Source/Resource/Resource']);
  expect(acknowledged(stack, 'ControlTower-CT.RDS.PR.6')).toEqual([]);
});

test('Aurora MySQL, production profile: zero findings; deletion protection on (no PR.3 acknowledgment), backtracking off for the binlog', () => {
  const { app, stack } = auroraStack(SourceEngine.auroraMysql(), DeploymentProfile.PRODUCTION);
  expect(formatFindings(gateFindings(app))).toBe('');
  expect(acknowledged(stack, 'ControlTower-CT.RDS.PR.2').sort()).toEqual(['AuroraSource/Source/Resource/Reader/Resource', 'AuroraSource/Source/Resource/Writer/Resource']);
  expect(acknowledged(stack, 'ControlTower-CT.RDS.PR.3')).toEqual([]);
  expect(acknowledged(stack, 'ControlTower-CT.RDS.PR.6')).toEqual(['AuroraSource/Source/Resource/Resource']);
});
