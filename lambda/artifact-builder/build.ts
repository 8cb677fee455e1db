// Builds one deterministic ZIP from downloaded archives and inline files, verifying every download's checksum; no AWS or CDK imports here.
import { createHash } from 'crypto';
import * as path from 'path';
import { PassThrough } from 'stream';
import { Parser, ReadEntry } from 'tar';
import * as yazl from 'yazl';
import { PermanentError } from './permanent-error';
import { ClassRelocation, isEntryOfClasses, relocateEntries } from './relocate';

export type { ClassRelocation };

/** One download that goes into the ZIP. */
export interface ArtifactSourceSpec {
  readonly url: string;
  /** Caller-pinned SHA-256 (hex). */
  readonly sha256?: string;
  /** URL of a published checksum file next to the download (`.sha1`, `.sha256`, `.sha512`). */
  readonly checksumUrl?: string;
  /**
   * How to unpack the download. `merge-jar`: the JAR is merged with every other `merge-jar` source of the same
   * `targetPath` into one JAR (see `mergeJars`), in the order the sources are listed.
   */
  readonly extract: 'tar.gz' | 'zip' | 'none' | 'merge-jar';
  /** Folder (for archives) or file path (for `none` and `merge-jar`) inside the output ZIP. */
  readonly targetPath: string;
  /** `merge-jar` only: take just these classes (internal names, `a/b/C`, with their nested classes) from this JAR. */
  readonly classes?: string[];
  /** `merge-jar` only: classes renamed in the whole merged JAR of this `targetPath` (entries and every class's references). */
  readonly relocations?: ClassRelocation[];
}

export interface InlineFileSpec {
  readonly path: string;
  readonly content: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: Buffer;
}

/** Fetches a URL; resolves with any status, rejects on a network error. */
export type HttpGet = (url: string) => Promise<HttpResponse>;

export interface RetryOptions {
  /** @default 5 */
  readonly attempts?: number;
  /** First backoff delay in ms, doubled on each retry. @default 500 */
  readonly baseDelayMs?: number;
  /** Sleep function (tests pass a fast one). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export { PermanentError };

const TRANSIENT_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** GETs a URL, retrying network errors and transient HTTP statuses with exponential backoff. */
export async function download(get: HttpGet, url: string, retry: RetryOptions = {}): Promise<Buffer> {
  const attempts = retry.attempts ?? 5;
  const base = retry.baseDelayMs ?? 500;
  const sleep = retry.sleep ?? ((ms: number) => new Promise<void>(r => setTimeout(r, ms)));
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await get(url);
      if (res.status >= 200 && res.status < 300) return res.body;
      if (!TRANSIENT_STATUS.has(res.status)) {
        throw new PermanentError(`GET ${url} returned HTTP ${res.status}; check the URL and version in the artifact source.`);
      }
      lastError = new Error(`GET ${url} returned HTTP ${res.status}`);
    } catch (e) {
      if (e instanceof PermanentError) throw e;
      lastError = e;
    }
    if (attempt < attempts) await sleep(base * 2 ** (attempt - 1));
  }
  throw new Error(`GET ${url} failed after ${attempts} attempts: ${(lastError as Error)?.message ?? lastError}`);
}

const ALGORITHM_BY_SUFFIX: Array<[RegExp, string, number]> = [
  [/\.sha512$/i, 'sha512', 128],
  [/\.sha256$/i, 'sha256', 64],
  [/\.sha1$/i, 'sha1', 40],
];

/** The hash algorithm and expected hex digest length of a published checksum file, from its name. */
export function checksumAlgorithm(checksumUrl: string): { algorithm: string; hexLength: number } {
  const match = ALGORITHM_BY_SUFFIX.find(([re]) => re.test(checksumUrl));
  if (!match) {
    throw new PermanentError(`checksumUrl ${checksumUrl} must end in .sha512, .sha256 or .sha1 (MD5 is not accepted).`);
  }
  return { algorithm: match[1], hexLength: match[2] };
}

/** Reads the digest from a checksum file (`<hex>` or `<hex>  <file name>`, as Maven Central and sha*sum write them). */
export function parseChecksumFile(text: string, hexLength: number): string {
  const token = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  if (!new RegExp(`^[0-9a-f]{${hexLength}}$`).test(token)) {
    throw new PermanentError(`published checksum '${text.trim().slice(0, 80)}' is not a ${hexLength}-digit hex digest.`);
  }
  return token;
}

/** Downloads one source and verifies it against its published and/or pinned checksum. */
export async function fetchVerified(get: HttpGet, source: ArtifactSourceSpec, retry?: RetryOptions): Promise<Buffer> {
  if (!source.sha256 && !source.checksumUrl) {
    throw new PermanentError(`source ${source.url} has neither sha256 nor checksumUrl; every download must be verified.`);
  }
  const body = await download(get, source.url, retry);
  if (source.checksumUrl) {
    const { algorithm, hexLength } = checksumAlgorithm(source.checksumUrl);
    const published = parseChecksumFile((await download(get, source.checksumUrl, retry)).toString('utf8'), hexLength);
    const actual = createHash(algorithm).update(body).digest('hex');
    if (actual !== published) {
      throw new PermanentError(`checksum mismatch for ${source.url}: published ${algorithm} ${published}, downloaded ${actual}. The download is corrupt or was tampered with; nothing was uploaded.`);
    }
  }
  if (source.sha256) {
    const actual = createHash('sha256').update(body).digest('hex');
    if (actual !== source.sha256.toLowerCase()) {
      throw new PermanentError(`checksum mismatch for ${source.url}: pinned sha256 ${source.sha256}, downloaded ${actual}. Update the pinned sha256 only if you trust the new file.`);
    }
  }
  return body;
}

/** Rejects absolute paths and `..` segments so an archive cannot write outside its target folder. */
export function safeJoin(folder: string, entry: string): string {
  const normalized = path.posix.normalize(entry.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  if (normalized.startsWith('/') || normalized === '..' || normalized.startsWith('../')) {
    throw new PermanentError(`archive entry '${entry}' escapes its folder; refusing to unpack it.`);
  }
  return folder ? path.posix.join(folder, normalized) : normalized;
}

/** Unpacks a `.tar.gz` in memory: regular files only (directories are implied by paths, links are refused). */
export async function extractTarGz(archive: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type === 'File' || entry.type === 'OldFile' || entry.type === 'ContiguousFile') {
          const chunks: Buffer[] = [];
          pending.push(new Promise<void>((done, fail) => {
            entry.on('data', (c: Buffer) => chunks.push(c));
            entry.on('end', () => { files.set(entry.path, Buffer.concat(chunks)); done(); });
            entry.on('error', fail);
          }));
        } else if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
          reject(new PermanentError(`archive entry '${entry.path}' is a link; links are not accepted in plugin archives.`));
          entry.resume();
        } else {
          entry.resume();
        }
      },
    });
    parser.on('error', (e: Error) => reject(new PermanentError(`not a valid .tar.gz archive: ${e.message}`)));
    parser.on('end', () => resolve());
    parser.end(archive);
  });
  await Promise.all(pending);
  return files;
}

/** Reads the file entries of a ZIP archive (stored or deflated), enough for connector and config-provider ZIPs. */
export function extractZip(archive: Buffer): Map<string, Buffer> {
  // Central directory: find the end-of-central-directory record from the back.
  const { inflateRawSync } = require('zlib') as typeof import('zlib');
  let eocd = -1;
  for (let i = archive.length - 22; i >= Math.max(0, archive.length - 65557); i--) {
    if (archive.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new PermanentError('not a valid ZIP archive: no end of central directory record.');
  const count = archive.readUInt16LE(eocd + 10);
  let offset = archive.readUInt32LE(eocd + 16);
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (archive.readUInt32LE(offset) !== 0x02014b50) throw new PermanentError('not a valid ZIP archive: bad central directory entry.');
    const method = archive.readUInt16LE(offset + 10);
    const compressedSize = archive.readUInt32LE(offset + 20);
    const nameLength = archive.readUInt16LE(offset + 28);
    const extraLength = archive.readUInt16LE(offset + 30);
    const commentLength = archive.readUInt16LE(offset + 32);
    const localOffset = archive.readUInt32LE(offset + 42);
    const name = archive.toString('utf8', offset + 46, offset + 46 + nameLength);
    offset += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    const localNameLength = archive.readUInt16LE(localOffset + 26);
    const localExtraLength = archive.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const data = archive.subarray(start, start + compressedSize);
    if (method === 0) files.set(name, Buffer.from(data));
    else if (method === 8) files.set(name, inflateRawSync(data));
    else throw new PermanentError(`ZIP entry '${name}' uses compression method ${method}; only stored and deflate are supported.`);
  }
  return files;
}

/** Fixed timestamp for every ZIP entry, so the same inputs always give the same bytes. */
const ZIP_MTIME = new Date(Date.UTC(2020, 0, 1, 0, 0, 0));

/**
 * Writes entries sorted by path with fixed timestamps and modes: byte-identical output for identical input.
 * Names in `first` are written first, in that order (a JAR's manifest must lead for `JarInputStream`).
 */
export function buildZip(entries: Map<string, Buffer>, first: readonly string[] = []): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const leading = first.filter(n => entries.has(n));
  for (const name of [...leading, ...[...entries.keys()].filter(n => !leading.includes(n)).sort()]) {
    const data = entries.get(name)!;
    // Entries are compressed one at a time, as yazl writes them: addBuffer starts a deflate per entry at once, and a merged
    // JAR of ~70,000 classes (the warehouse writer's) then held that many zlib streams, over 14 GB against the builder's 2 GB.
    zip.addReadStreamLazy(name, { mtime: ZIP_MTIME, mode: 0o100644, compress: true, forceDosTimestamp: true, size: data.length }, cb => cb(null, new PassThrough().end(data)));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
    zip.end();
  });
}

/** One JAR to merge: a label for messages (its URL) and its bytes. */
export interface JarPart {
  readonly name: string;
  readonly body: Buffer;
  /** Only these classes (and their nested classes) are taken from this JAR. @default every entry */
  readonly classes?: readonly string[];
}

/** What `mergeJars` did, for tests and logs. */
export interface MergedJar {
  readonly jar: Buffer;
  /** Entries that more than one input JAR holds with different bytes (the first one listed was kept). */
  readonly conflicts: string[];
  readonly entryCount: number;
}

const MANIFEST = 'META-INF/MANIFEST.MF';
/** Signature files of signed JARs: they sign the original JAR only, and a JVM refuses a merged JAR that carries them. */
const SIGNATURE = /^META-INF\/[^/]+\.(SF|DSA|RSA|EC)$/i;
/** Entries that describe one input JAR and would be wrong for the merged one. */
const PER_JAR = /^(META-INF\/INDEX\.LIST|(META-INF\/versions\/\d+\/)?module-info\.class)$/i;
const SERVICES = /^META-INF\/services\/[^/]+$/;

/**
 * Merges JARs into one, as maven-shade does: classes and resources keep their package unless `relocations` rename them
 * (first listed wins on a clash, reported in `conflicts`), `META-INF/services/*` files are concatenated
 * (each provider once, in order), signature files, `INDEX.LIST` and `module-info.class` are dropped, and a
 * fresh manifest leads the JAR. The output is deterministic (sorted entries, fixed timestamps).
 */
export async function mergeJars(parts: readonly JarPart[], relocations: readonly ClassRelocation[] = []): Promise<MergedJar> {
  if (parts.length === 0) throw new PermanentError('mergeJars: no JARs to merge.');
  const entries = new Map<string, Buffer>();
  const services = new Map<string, string[]>();
  const conflicts = new Set<string>();
  for (const part of parts) {
    let files: Map<string, Buffer>;
    try {
      files = extractZip(part.body);
    } catch (e) {
      throw new PermanentError(`${part.name} is not a readable JAR: ${(e as Error).message}`);
    }
    for (const [name, data] of files) {
      if (part.classes && !isEntryOfClasses(name, part.classes)) continue;
      if (name.toUpperCase() === MANIFEST || SIGNATURE.test(name) || PER_JAR.test(name)) continue;
      safeJoin('', name);
      if (SERVICES.test(name)) {
        const lines = services.get(name) ?? [];
        for (const raw of data.toString('utf8').split(/\r?\n/)) {
          const line = raw.replace(/#.*$/, '').trim();
          if (line && !lines.includes(line)) lines.push(line);
        }
        services.set(name, lines);
        continue;
      }
      const existing = entries.get(name);
      if (existing === undefined) entries.set(name, data);
      else if (!existing.equals(data)) conflicts.add(name);
    }
  }
  for (const [name, lines] of services) entries.set(name, Buffer.from(lines.map(l => `${l}\n`).join(''), 'utf8'));
  const relocated = relocateEntries(entries, relocations);
  relocated.set(MANIFEST, Buffer.from('Manifest-Version: 1.0\r\nCreated-By: cdk-agent-data-stack artifact-builder\r\n\r\n', 'utf8'));
  const jar = await buildZip(relocated, [MANIFEST]);
  return { jar, conflicts: [...conflicts].sort(), entryCount: relocated.size };
}

/** Downloads, verifies and unpacks every source, merges `merge-jar` sources per target, adds the inline files, and returns the ZIP. */
export async function assembleArtifact(
  get: HttpGet,
  sources: readonly ArtifactSourceSpec[],
  files: readonly InlineFileSpec[] = [],
  retry?: RetryOptions,
): Promise<Buffer> {
  const entries = new Map<string, Buffer>();
  const add = (name: string, data: Buffer) => {
    if (entries.has(name)) throw new PermanentError(`two inputs write '${name}' in the artifact; give them different targetPath values.`);
    entries.set(name, data);
  };
  const merges = new Map<string, JarPart[]>();
  const relocations = new Map<string, ClassRelocation[]>();
  for (const source of sources) {
    const body = await fetchVerified(get, source, retry);
    const folder = source.targetPath.replace(/^\/+|\/+$/g, '');
    if (source.extract === 'merge-jar') {
      if (!folder.endsWith('.jar')) throw new PermanentError(`source ${source.url} has extract 'merge-jar' and needs a JAR file path (ending in .jar) as targetPath.`);
      const target = safeJoin('', folder);
      merges.set(target, [...(merges.get(target) ?? []), { name: source.url, body, classes: source.classes }]);
      relocations.set(target, [...(relocations.get(target) ?? []), ...(source.relocations ?? [])]);
      continue;
    }
    if (source.extract === 'none') {
      if (!folder) throw new PermanentError(`source ${source.url} has extract 'none' and needs a file path as targetPath.`);
      add(safeJoin('', folder), body);
      continue;
    }
    const unpacked = source.extract === 'tar.gz' ? await extractTarGz(body) : extractZip(body);
    if (unpacked.size === 0) throw new PermanentError(`archive ${source.url} contains no files.`);
    for (const [name, data] of unpacked) add(safeJoin(folder, name), data);
  }
  for (const [target, parts] of merges) add(target, (await mergeJars(parts, relocations.get(target))).jar);
  for (const file of files) add(safeJoin('', file.path), Buffer.from(file.content, 'utf8'));
  return buildZip(entries);
}
