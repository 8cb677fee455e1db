// The alarm table of docs/governance.md names exactly the alarms AgentObservability creates for the example app (both profiles).
import * as fs from 'fs';
import * as path from 'path';
import { exampleTemplate } from '../helpers/example-template';

const ROOT = path.join(__dirname, '..', '..');

/** The alarm ids in the first column of governance.md's "Alarms and why these thresholds" table, as regular expressions. */
function documentedAlarmIds(markdown: string): Map<string, RegExp> {
  const section = markdown.split(/^### Alarms and why these thresholds$/m)[1]?.split(/^#/m)[0] ?? '';
  const ids = new Map<string, RegExp>();
  for (const row of section.split('\n').filter(l => l.startsWith('| `'))) {
    for (const [, id] of row.split('|')[1].matchAll(/`([^`]+)`/g)) {
      // `<view>`, `<n>`... stand for one id fragment (letters and digits); `…` for any continuation.
      const pattern = id.split(/(<[a-z ]+>|…)/).map(part => part === '…' ? '.*' : part.startsWith('<') ? '[A-Za-z0-9]+' : part).join('');
      ids.set(id, new RegExp(`^${pattern}$`));
    }
  }
  return ids;
}

/** Alarm ids AgentObservability gave the alarms of a template: its construct id is `${id}Alarm` under `Observability`. */
function observabilityAlarmIds(profile: 'development' | 'production'): string[] {
  return Object.keys(exampleTemplate(profile).findResources('AWS::CloudWatch::Alarm'))
    .map(logicalId => /^Observability(.+)Alarm[0-9A-F]{8}$/.exec(logicalId)?.[1])
    .filter((id): id is string => id !== undefined);
}

test('every alarm the example creates is in governance.md\'s alarm table, and every row names an alarm it creates', () => {
  const documented = documentedAlarmIds(fs.readFileSync(path.join(ROOT, 'docs', 'governance.md'), 'utf8'));
  expect(documented.size).toBeGreaterThanOrEqual(15);
  const created = [...new Set([...observabilityAlarmIds('development'), ...observabilityAlarmIds('production')])];
  expect(created.length).toBeGreaterThanOrEqual(30);
  const undocumented = created.filter(id => ![...documented.values()].some(re => re.test(id)));
  const neverCreated = [...documented].filter(([, re]) => !created.some(id => re.test(id))).map(([id]) => id);
  expect({ undocumented, neverCreated }).toEqual({ undocumented: [], neverCreated: [] });
});

test('the table parser reads placeholders and lists', () => {
  const ids = documentedAlarmIds('### Alarms and why these thresholds\n\n| alarm |\n| --- |\n| `DeadLettered<view>` / `Gone` | x |\n| `A`, `B…` | y |\n\n## Next\n| `C` |');
  expect([...ids.keys()]).toEqual(['DeadLettered<view>', 'Gone', 'A', 'B…']);
  expect(ids.get('DeadLettered<view>')!.test('DeadLetteredOrders')).toBe(true);
  expect(ids.get('B…')!.test('Bx')).toBe(true);
});
