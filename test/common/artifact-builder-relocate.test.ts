// Class relocation in the deploy-time builder, on the real classes: Flink's HadoopUtils, Iceberg's FlinkCatalogFactory and
// Hadoop's configuration package, read back by javap.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cachedMavenGet } from '../../cli/dev/engines/flink';
import { extractZip, fetchVerified, mergeJars, type ArtifactSourceSpec } from '../../lambda/artifact-builder/build';
import { parseConstantPool, relocateClass, relocateEntries } from '../../lambda/artifact-builder/relocate';
import { packageSources } from '../../constructs/processing/private/flink-program';
import { HADOOP_CONF_RELOCATION, HADOOP_UTILS_RELOCATION, icebergWriterJar } from '../../constructs/stores/warehouse-jars';

const FROM = HADOOP_UTILS_RELOCATION.from;
const TO = HADOOP_UTILS_RELOCATION.to;
const FACTORY = 'org/apache/iceberg/flink/FlinkCatalogFactory.class';

/** The writer package's own sources (as the template carries them), downloaded once into ~/.m2 and verified. */
const writerSources = packageSources(icebergWriterJar()) as ArtifactSourceSpec[];
const sourceOf = (artifact: string) => writerSources.find(s => s.url.includes(`/${artifact}/`))!;
const jarOf = async (artifact: string) => extractZip(await fetchVerified(cachedMavenGet, sourceOf(artifact)));

function javap(classFile: Buffer, className: string, flags: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'javap-'));
  try {
    const file = path.join(dir, `${className}.class`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, classFile);
    return execFileSync('javap', [...flags, '-cp', dir, className.replace(/\//g, '.')], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether text names the old class (the new name contains the old one after `shaded/`, which does not count). */
const namesOld = (text: string) => text.split(TO).join('').includes(FROM);
const utf8Of = (classFile: Buffer) => parseConstantPool(classFile).entries.flatMap(e => (e.utf8 === undefined ? [] : [e.utf8]));

let hadoopFs: Map<string, Buffer>;
let iceberg: Map<string, Buffer>;
let hadoopApi: Map<string, Buffer>;
// The first run on a machine downloads about 60 MB from Maven Central (161 s in a cold CI run here, beside the engine
// prefetch's own downloads): the limit only bounds a stalled download.
beforeAll(async () => {
  hadoopFs = await jarOf('flink-hadoop-fs');
  iceberg = await jarOf('iceberg-flink-runtime-1.20');
  hadoopApi = await jarOf('hadoop-client-api');
}, 900_000);

test('the writer package declares the relocation as data: HadoopUtils only, from the pinned flink-hadoop-fs', () => {
  const source = sourceOf('flink-hadoop-fs');
  expect(source).toMatchObject({
    extract: 'merge-jar', classes: [FROM], sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    relocations: [{ from: FROM, to: TO }, { from: 'org/apache/hadoop/conf', to: 'shaded/org/apache/hadoop/conf', package: true }],
  });
  expect(TO.startsWith('org/apache/flink/')).toBe(false);
  // Neither new name is parent-first in Flink's defaults (`org.apache.flink.`, `org.apache.hadoop.`, ...).
  expect(HADOOP_CONF_RELOCATION.to.startsWith('org/apache/')).toBe(false);
});

test('HadoopUtils rewritten: it parses, names itself by the new name only, and javap reads it as the relocated class', () => {
  const original = hadoopFs.get(`${FROM}.class`)!;
  expect(utf8Of(original)).toContain(FROM);
  const rewritten = relocateClass(original, [HADOOP_UTILS_RELOCATION]);
  const strings = utf8Of(rewritten);
  expect(strings).toContain(TO);
  expect(strings.filter(namesOld)).toEqual([]);
  expect(parseConstantPool(rewritten).entries.length).toBe(parseConstantPool(original).entries.length);
  expect(namesOld(rewritten.toString('latin1'))).toBe(false);
  // javap -v parses the whole class (constant pool, fields, methods, attributes): wrong lengths would fail here.
  const out = javap(rewritten, TO, ['-v', '-p']);
  expect(out).toContain(`public class ${TO.replace(/\//g, '.')}`);
  expect(out).toContain(`// ${TO}.LOG:Lorg/slf4j/Logger;`);
  expect(namesOld(out)).toBe(false);
  expect(out).toContain('org/apache/hadoop/conf/Configuration');
});

test("Iceberg's FlinkCatalogFactory rewritten calls the relocated HadoopUtils (javap -c)", () => {
  const original = iceberg.get(FACTORY)!;
  expect(javap(original, FACTORY.replace(/\.class$/, ''), ['-c', '-p'])).toContain(`Method ${FROM}.getHadoopConfiguration`);
  const out = javap(relocateClass(original, [HADOOP_UTILS_RELOCATION]), FACTORY.replace(/\.class$/, ''), ['-c', '-p']);
  expect(out).toContain(`Method ${TO}.getHadoopConfiguration`);
  expect(namesOld(out)).toBe(false);
});

test('a class whose name only starts with the relocated one, and classes that do not name it, are left byte for byte', () => {
  const original = hadoopFs.get(`${FROM}.class`)!;
  const other = { from: `${FROM.slice(0, -1)}`, to: 'x/Y' }; // org/.../HadoopUtil: a prefix of the name, not the class
  expect(relocateClass(original, [other]).equals(original)).toBe(true);
  const untouched = iceberg.get('org/apache/iceberg/flink/FlinkSchemaUtil.class')!;
  expect(relocateClass(untouched, [HADOOP_UTILS_RELOCATION])).toBe(untouched);
  const renamed = relocateEntries(new Map([[`${FROM}.class`, original], [`${FROM}$Inner.class`, original], ['a/B.txt', Buffer.from(FROM)]]), [HADOOP_UTILS_RELOCATION]);
  expect([...renamed.keys()]).toEqual([`${TO}.class`, `${TO}$Inner.class`, 'a/B.txt']);
  expect(renamed.get('a/B.txt')!.toString()).toBe(FROM);
});

test('the merged JAR holds the relocated HadoopUtils (and nothing else of flink-hadoop-fs), and no Iceberg class names the old one', async () => {
  const parts = ['iceberg-flink-runtime-1.20', 'flink-hadoop-fs'].map(a => sourceOf(a));
  const relocations = parts.flatMap(p => p.relocations ?? []);
  const bodies = await Promise.all(parts.map(p => fetchVerified(cachedMavenGet, p)));
  const merged = await mergeJars(parts.map((p, i) => ({ name: p.url, body: bodies[i], classes: p.classes })), relocations);
  const entries = extractZip(merged.jar);
  expect(entries.has(`${TO}.class`)).toBe(true);
  expect(entries.has(`${FROM}.class`)).toBe(false);
  const hadoopFsEntries = new Set([...hadoopFs.keys()].filter(n => n.endsWith('.class')));
  expect([...entries.keys()].filter(n => hadoopFsEntries.has(n))).toEqual([]);
  const stale = [...entries].filter(([n, data]) => n.endsWith('.class') && namesOld(data.toString('latin1'))).map(([n]) => n);
  expect(stale).toEqual([]);
  const users = [...entries].filter(([n, data]) => n.startsWith('org/apache/iceberg/flink/') && data.includes(TO, 0, 'latin1')).map(([n]) => n);
  expect(users).toContain(FACTORY);
  expect(utf8Of(entries.get(`${TO}.class`)!)).toContain(TO);
}, 300_000);

describe('the Hadoop configuration package, relocated as AWS\'s sample does (org.apache.hadoop.conf -> shaded.org.apache.hadoop.conf)', () => {
  const CONF = HADOOP_CONF_RELOCATION;
  const BOTH = [HADOOP_UTILS_RELOCATION, HADOOP_CONF_RELOCATION];
  /** Whether a constant names the package by its old name where a class name goes (start, or after `L` in a descriptor). */
  const namesOldConf = (text: string) => /(^|L)org\/apache\/hadoop\/conf\//.test(text) || text.startsWith('org.apache.hadoop.conf.');

  test('Configuration itself: its name, its nested classes and its logger name move; javap reads the class under the new name', () => {
    const original = hadoopApi.get('org/apache/hadoop/conf/Configuration.class')!;
    const rewritten = relocateClass(original, BOTH);
    const strings = utf8Of(rewritten);
    expect(strings).toEqual(expect.arrayContaining(['shaded/org/apache/hadoop/conf/Configuration', 'shaded/org/apache/hadoop/conf/Configuration$DeprecationDelta',
      'shaded.org.apache.hadoop.conf.Configuration.deprecation']));
    expect(strings.filter(namesOldConf)).toEqual([]);
    const out = javap(rewritten, 'shaded/org/apache/hadoop/conf/Configuration', ['-v', '-p']);
    expect(out).toContain('public class shaded.org.apache.hadoop.conf.Configuration');
    // Other Hadoop packages keep their names: only the configuration package moves.
    expect(out).toContain('org/apache/hadoop/fs/Path');
  });

  test('HadoopUtils, relocated too, takes and returns the relocated Configuration', () => {
    const out = javap(relocateClass(hadoopFs.get(`${FROM}.class`)!, BOTH), TO, ['-p']);
    expect(out).toContain('public static shaded.org.apache.hadoop.conf.Configuration getHadoopConfiguration(org.apache.flink.configuration.Configuration)');
    expect(out).not.toMatch(/(?<![\w.])org\.apache\.hadoop\.conf\./);
  });

  test('a package named like it (org/apache/hadoop/configuration) and an entry outside it stay; a package moved into itself is refused', () => {
    const renamed = relocateEntries(new Map([
      ['org/apache/hadoop/conf/Configuration.class', hadoopApi.get('org/apache/hadoop/conf/Configuration.class')!],
      ['org/apache/hadoop/conf/sub/X.properties', Buffer.from('x')],
      ['org/apache/hadoop/configuration/Y.class', Buffer.from('not a class')],
    ]), [CONF]);
    expect([...renamed.keys()]).toEqual(['shaded/org/apache/hadoop/conf/Configuration.class', 'shaded/org/apache/hadoop/conf/sub/X.properties', 'org/apache/hadoop/configuration/Y.class']);
    expect(() => relocateEntries(new Map(), [{ from: 'a/b', to: 'a/b/c', package: true }])).toThrow(/into itself/);
  });

  test('as CloudFormation hands it to the builder (package: "true"), a class naming the package only in dotted form is rewritten too', () => {
    // Iceberg's CatalogUtil names Hadoop's Configurable and Configuration for reflection, with dots only.
    const original = iceberg.get('org/apache/iceberg/CatalogUtil.class')!;
    expect(original.includes('org/apache/hadoop/conf', 0, 'latin1')).toBe(false);
    expect(utf8Of(original)).toContain('org.apache.hadoop.conf.Configurable');
    const asDelivered = [{ ...HADOOP_CONF_RELOCATION, package: 'true' as const }];
    expect(utf8Of(relocateClass(original, asDelivered))).toEqual(expect.arrayContaining(['shaded.org.apache.hadoop.conf.Configurable', 'shaded.org.apache.hadoop.conf.Configuration']));
    expect(relocateClass(original, asDelivered).equals(relocateClass(original, [HADOOP_CONF_RELOCATION]))).toBe(true);
    expect(relocateClass(original, [{ ...HADOOP_CONF_RELOCATION, package: 'false' as const }])).toBe(original);
    expect(() => relocateEntries(new Map(), [{ ...HADOOP_CONF_RELOCATION, package: 'yes' as never }])).toThrow(/has package "yes"; give true or false/);
  });

  test('a relocation into a name another one would move again is refused (entries and constants would disagree)', () => {
    expect(() => relocateEntries(new Map(), [{ from: 'x/A', to: 'p/A' }, { from: 'p', to: 'q', package: true }])).toThrow(/would move them again/);
    expect(() => relocateEntries(new Map(), [{ from: 'a', to: 'b', package: true }, { from: 'b', to: 'c', package: true }])).toThrow(/would move them again/);
    expect(relocateEntries(new Map(), [HADOOP_UTILS_RELOCATION, HADOOP_CONF_RELOCATION]).size).toBe(0);
  });

  test('in the merged JAR of Hadoop\'s client API, Iceberg and HadoopUtils nothing is left in or names the old package', async () => {
    const parts = ['iceberg-flink-runtime-1.20', 'hadoop-client-api', 'flink-hadoop-fs'].map(a => sourceOf(a));
    // As the deployed builder receives them: CloudFormation turns the custom resource's booleans into strings.
    const relocations = parts.flatMap(p => p.relocations ?? []).map(r => ({ ...r, ...(r.package ? { package: 'true' as const } : {}) }));
    const bodies = await Promise.all(parts.map(p => fetchVerified(cachedMavenGet, p)));
    const merged = await mergeJars(parts.map((p, i) => ({ name: p.url, body: bodies[i], classes: p.classes })), relocations);
    const entries = extractZip(merged.jar);
    const names = [...entries.keys()];
    expect(names.filter(n => n.startsWith('org/apache/hadoop/conf/'))).toEqual([]);
    expect(names.filter(n => n.startsWith('shaded/org/apache/hadoop/conf/')).length)
      .toBe([...hadoopApi.keys()].filter(n => n.startsWith('org/apache/hadoop/conf/')).length);
    // Independent of the rewriter's patterns: no constant holds the old name anywhere, in either form, outside the new name.
    const oldAnywhere = (text: string) => text.split('shaded/org/apache/hadoop/conf').join('').split('shaded.org.apache.hadoop.conf').join('')
      .replace(/org\/apache\/hadoop\/configuration|org\.apache\.hadoop\.configuration/g, '')
      .match(/org[/.]apache[/.]hadoop[/.]conf(?![a-z])/) !== null;
    const stale = [...entries].filter(([n, data]) => n.endsWith('.class') && (data.includes('hadoop/conf', 0, 'latin1') || data.includes('hadoop.conf', 0, 'latin1'))
      && utf8Of(data).some(oldAnywhere)).map(([n]) => n);
    expect(stale).toEqual([]);
    expect(utf8Of(entries.get('org/apache/iceberg/CatalogUtil.class')!)).toContain('shaded.org.apache.hadoop.conf.Configuration');
    // The one class-name string of Hadoop's API (ServiceLauncher's default configuration class) names the new package.
    expect(utf8Of(entries.get('org/apache/hadoop/service/launcher/ServiceLauncher.class')!)).toContain('shaded.org.apache.hadoop.conf.Configuration');
  }, 600_000);
});
