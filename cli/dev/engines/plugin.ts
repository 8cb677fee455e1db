// Kafka Connect plugins laid out on plugin.path exactly as a construct's deploy-time plugin ZIP holds them, built by the same
// artifact-builder code from the same sources, with the Maven Central downloads resolved by Maven into the harness cache.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ArtifactSourceSpec, assembleArtifact, extractZip, HttpGet, InlineFileSpec } from '../../../lambda/artifact-builder/build';
import { directorySize, ENGINE_CACHE_DIR, MAVEN_REPOSITORY, resolveDependencies } from './maven';

const MAVEN_CENTRAL = 'https://repo1.maven.org/maven2/';

export interface PluginSpec {
  /** Folder name under plugin.path (MSK Connect unpacks a custom plugin ZIP into a folder of its own). */
  readonly name: string;
  /** The `Sources` of the construct's `Custom::DeployTimeArtifact`. */
  readonly sources: readonly ArtifactSourceSpec[];
  readonly files?: readonly InlineFileSpec[];
  /**
   * Sources that are not installed because the harness substitutes them (the MSK Secrets Manager config provider,
   * replaced by Kafka's own FileConfigProvider). Any other source that is not on Maven Central is an error.
   */
  readonly substitute?: (source: ArtifactSourceSpec) => boolean;
}

export interface InstalledPlugin {
  /** The `plugin.path` entry (holds one folder per plugin). */
  readonly pluginPath: string;
  /** The plugin's own folder. */
  readonly dir: string;
  /** Bytes of the installed plugin. */
  readonly sizeBytes: number;
  /** URLs of the substituted sources. */
  readonly substituted: string[];
}

interface MavenCoordinates {
  readonly groupId: string;
  readonly artifactId: string;
  readonly version: string;
  readonly classifier: string;
  readonly type: string;
}

/** `https://repo1.maven.org/maven2/io/debezium/a/1.0/a-1.0-plugin.tar.gz` to its Maven coordinates. */
export function mavenCoordinates(url: string): MavenCoordinates {
  if (!url.startsWith(MAVEN_CENTRAL)) throw new Error(`${url} is not a Maven Central URL`);
  const parts = url.slice(MAVEN_CENTRAL.length).split('/');
  const [fileName, version, artifactId] = [parts.pop()!, parts.pop()!, parts.pop()!];
  const prefix = `${artifactId}-${version}`;
  if (!fileName.startsWith(prefix)) throw new Error(`${url}: file name ${fileName} does not start with ${prefix}`);
  const rest = fileName.slice(prefix.length); // `-plugin.tar.gz` or `.jar`
  const match = /^(?:-([^.]+))?\.(.+)$/.exec(rest);
  if (!match) throw new Error(`${url}: cannot read classifier and type from ${fileName}`);
  return { groupId: parts.join('.'), artifactId, version, classifier: match[1] ?? '', type: match[2] };
}

/** Serves Maven Central URLs (and their `.sha1`) from the harness's Maven repository, after Maven resolved them. */
function localMavenGet(): HttpGet {
  return async (url: string) => {
    if (!url.startsWith(MAVEN_CENTRAL)) return { status: 404, body: Buffer.alloc(0) };
    const file = path.join(MAVEN_REPOSITORY, url.slice(MAVEN_CENTRAL.length));
    return fs.existsSync(file) ? { status: 200, body: fs.readFileSync(file) } : { status: 404, body: Buffer.alloc(0) };
  };
}

/** Builds the plugin ZIP the construct would build and unpacks it on a plugin path under the harness cache (reused when present). */
export async function installPlugin(spec: PluginSpec): Promise<InstalledPlugin> {
  const kept: ArtifactSourceSpec[] = [];
  const substituted: string[] = [];
  for (const source of spec.sources) {
    if (spec.substitute?.(source)) {
      substituted.push(source.url);
    } else if (source.url.startsWith(MAVEN_CENTRAL)) {
      kept.push(source);
    } else {
      throw new Error(`plugin ${spec.name}: source ${source.url} is not on Maven Central and has no local substitute; the harness only downloads from Maven Central.`);
    }
  }
  const key = createHash('sha256').update(JSON.stringify({ kept, files: spec.files ?? [] })).digest('hex').slice(0, 16);
  const pluginPath = path.join(ENGINE_CACHE_DIR, 'plugins', `${spec.name}-${key}`);
  const dir = path.join(pluginPath, spec.name);
  const marker = path.join(pluginPath, '.complete');
  if (!fs.existsSync(marker)) {
    fs.rmSync(pluginPath, { recursive: true, force: true });
    for (const source of kept) {
      const c = mavenCoordinates(source.url);
      resolveDependencies({
        pom: 'archive.pom.xml',
        properties: {
          'archive.groupId': c.groupId, 'archive.artifactId': c.artifactId, 'archive.version': c.version,
          'archive.classifier': c.classifier, 'archive.type': c.type,
        },
      });
    }
    // The deploy-time builder's own code: same checksum checks (Maven Central's .sha1), same unpacking, same paths.
    const zip = await assembleArtifact(localMavenGet(), kept, spec.files ?? [], { attempts: 1 });
    for (const [name, data] of extractZip(zip)) {
      const target = path.join(dir, name);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, data);
    }
    fs.writeFileSync(marker, new Date().toISOString());
  }
  return { pluginPath, dir, sizeBytes: directorySize(dir), substituted };
}
