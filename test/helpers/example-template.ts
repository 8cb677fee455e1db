// The example app's template per profile, synthesized once per state of the sources and kept on disk, so the test files
// that only read it share one synth instead of each building the example's construct tree again.
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { defineExampleApp } from '../../bin/example';
import { testApp } from './app';

const ROOT = path.join(__dirname, '..', '..');
/** Everything a template can depend on: the sources, the example schema, the feature flags, the dependencies' lock. */
const INPUT_DIRS = ['bin', 'lib', 'constructs', 'contract', 'lambda', 'cli/dev'];
const INPUT_FILES = ['cdk.json', 'package-lock.json', 'test/helpers/app.ts', 'test/helpers/example-template.ts'];

function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === '__pycache__' || e.name === 'node_modules' ? [] : filesUnder(p);
    return /\.(ts|py|sql|json)$/.test(e.name) ? [p] : [];
  });
}

let key: string | undefined;
function sourcesKey(): string {
  if (!key) {
    const hash = crypto.createHash('sha256');
    const files = [...INPUT_DIRS.flatMap(d => filesUnder(path.join(ROOT, d))), ...INPUT_FILES.map(f => path.join(ROOT, f))].sort();
    for (const f of files) hash.update(path.relative(ROOT, f)).update('\0').update(fs.existsSync(f) ? fs.readFileSync(f) : '').update('\0');
    key = hash.digest('hex').slice(0, 32);
  }
  return key;
}

const memo = new Map<string, Template>();

/** The example's template (testApp: bundling skipped, no gate) for `profile`, from the shared cache when the sources are unchanged. */
export function exampleTemplate(profile: 'development' | 'production'): Template {
  const cached = memo.get(profile);
  if (cached) return cached;
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  const file = path.join(cacheHome, 'cdk-agent-data-stack', 'example-templates', `${profile}-${sourcesKey()}.json`);
  let json: Record<string, unknown> | undefined;
  if (fs.existsSync(file)) {
    try {
      json = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      json = undefined;
    }
  }
  if (!json) {
    json = Template.fromStack(defineExampleApp(testApp(), { profile })).toJSON();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(json));
    fs.renameSync(tmp, file);
  }
  const template = Template.fromJSON(json);
  memo.set(profile, template);
  return template;
}
