// Class relocation for merged JARs, as maven-shade's <relocation> does for one class or a package: rewrites class-file constant pools and renames entries.
import { findChainedRelocation } from '../../contract/jar-relocation';
import { PermanentError } from './permanent-error';

/**
 * Renames one class (and its nested classes, `Name$...`) everywhere in a merged JAR, or with `package` every class of a
 * package and its subpackages, as maven-shade's `<relocation><pattern>` does. Names are in the class file's internal form
 * (`org/apache/flink/runtime/util/HadoopUtils`, `org/apache/hadoop/conf`).
 */
export interface ClassRelocation {
  readonly from: string;
  readonly to: string;
  /**
   * `from` and `to` are packages: every class under `from/` moves under `to/`. CloudFormation hands a custom resource's
   * booleans over as strings, so `'true'` and `'false'` are read as the booleans (`normalizeRelocation`).
   * @default false (one class)
   */
  readonly package?: boolean | 'true' | 'false';
}

/** A relocation as the rewriter reads it: `package` a boolean, `'true'`/`'false'` from CloudFormation read as such. */
export function normalizeRelocation(r: ClassRelocation): ClassRelocation & { readonly package: boolean } {
  const pkg = r.package as unknown;
  if (pkg !== undefined && pkg !== true && pkg !== false && pkg !== 'true' && pkg !== 'false') {
    throw new PermanentError(`relocation ${JSON.stringify(r)} has package ${JSON.stringify(pkg)}; give true or false.`);
  }
  return { from: r.from, to: r.to, package: pkg === true || pkg === 'true' };
}

const CLASS_NAME = /^[A-Za-z_$][\w$]*(\/[A-Za-z_$][\w$]*)*$/;

/** Refuses a relocation that is not two distinct class (or package) names in internal form, or a package moved into itself. */
export function checkRelocation(relocation: ClassRelocation): void {
  const r = normalizeRelocation(relocation);
  if (!CLASS_NAME.test(r.from) || !CLASS_NAME.test(r.to) || r.from === r.to) {
    throw new PermanentError(`relocation ${JSON.stringify(r)} needs two different ${r.package ? 'package' : 'class'} names in internal form (a/b/${r.package ? 'c' : 'C'}).`);
  }
  if (r.package && r.to.startsWith(`${r.from}/`)) {
    throw new PermanentError(`relocation ${JSON.stringify(r)} moves a package into itself: its classes would be relocated again on every reference.`);
  }
}

/** One constant-pool entry: its tag, and for CONSTANT_Utf8 its raw (modified UTF-8) bytes as a latin1 string. */
export interface ConstantPoolEntry {
  readonly index: number;
  readonly tag: number;
  readonly utf8?: string;
}

/** Fixed sizes (after the tag) of the constant-pool entries other than CONSTANT_Utf8 (JVMS 4.4). */
const ENTRY_SIZE: Record<number, number> = { 3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2 };

/** Parses a class file's constant pool; `end` is the offset of the bytes after it (access flags onward). */
export function parseConstantPool(classFile: Buffer): { entries: ConstantPoolEntry[]; end: number } {
  if (classFile.length < 10 || classFile.readUInt32BE(0) !== 0xcafebabe) throw new PermanentError('not a class file: bad magic number.');
  const count = classFile.readUInt16BE(8);
  const entries: ConstantPoolEntry[] = [];
  let offset = 10;
  for (let index = 1; index < count; index++) {
    if (offset >= classFile.length) throw new PermanentError(`class file truncated in constant pool entry ${index}.`);
    const tag = classFile[offset];
    if (tag === 1) {
      const length = classFile.readUInt16BE(offset + 1);
      if (offset + 3 + length > classFile.length) throw new PermanentError(`class file truncated in CONSTANT_Utf8 ${index}.`);
      entries.push({ index, tag, utf8: classFile.toString('latin1', offset + 3, offset + 3 + length) });
      offset += 3 + length;
      continue;
    }
    const size = ENTRY_SIZE[tag];
    if (size === undefined) throw new PermanentError(`class file has unknown constant pool tag ${tag} at entry ${index}.`);
    entries.push({ index, tag });
    offset += 1 + size;
    // CONSTANT_Long and CONSTANT_Double take two slots.
    if (tag === 5 || tag === 6) index++;
  }
  return { entries, end: offset };
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The rewrite of one CONSTANT_Utf8: the class name itself (`from`, `from$Inner`, as CONSTANT_Class names it) and every
 * `Lfrom;`, `Lfrom$Inner;`, `Lfrom<` in descriptors and signatures. `fromX` (another class) is left alone. A package
 * relocation rewrites `from/` in the same places, and a string that starts with the package's dotted name (a class
 * name for reflection, a logger name), as maven-shade does for string constants.
 */
function utf8Rewriter(relocations: readonly ClassRelocation[]): (s: string) => string {
  const rules = relocations.flatMap(r => (r.package
    ? [
      { re: new RegExp(`(^|L)${escape(r.from)}/`, 'g'), to: `${r.to}/` },
      { re: new RegExp(`^()${escape(dotted(r.from))}\\.`), to: `${dotted(r.to)}.` },
    ]
    : [{ re: new RegExp(`(^|L)${escape(r.from)}(?=$|[;$<])`, 'g'), to: r.to }]));
  return s => rules.reduce((acc, rule) => acc.replace(rule.re, (_m, lead: string) => `${lead}${rule.to}`), s);
}

const dotted = (internal: string) => internal.replace(/\//g, '.');

/** Whether a class file may name the relocated class or package (a fast byte search before parsing it). */
function mayName(classFile: Buffer, r: Relocation): boolean {
  return classFile.includes(r.from, 0, 'latin1') || (r.package && classFile.includes(dotted(r.from), 0, 'latin1'));
}

/**
 * Rewrites the CONSTANT_Utf8 entries of a class file that name a relocated class (lengths fixed up; every other
 * byte is copied, and constant-pool indices do not move). Returns the input itself when nothing names one.
 */
export function relocateClass(classFile: Buffer, relocations: readonly ClassRelocation[]): Buffer {
  return rewriteClass(classFile, relocations.map(normalizeRelocation));
}

type Relocation = ReturnType<typeof normalizeRelocation>;

function rewriteClass(classFile: Buffer, relocations: readonly Relocation[]): Buffer {
  if (!relocations.some(r => mayName(classFile, r))) return classFile;
  const rewrite = utf8Rewriter(relocations);
  const { end } = parseConstantPool(classFile);
  const count = classFile.readUInt16BE(8);
  const parts: Buffer[] = [classFile.subarray(0, 10)];
  let changed = false;
  let offset = 10;
  for (let index = 1; index < count; index++) {
    const tag = classFile[offset];
    if (tag === 1) {
      const length = classFile.readUInt16BE(offset + 1);
      const value = classFile.toString('latin1', offset + 3, offset + 3 + length);
      const next = rewrite(value);
      if (next !== value) {
        changed = true;
        const bytes = Buffer.from(next, 'latin1');
        if (bytes.length > 0xffff) throw new PermanentError(`relocated constant ${index} is longer than 65535 bytes.`);
        const head = Buffer.alloc(3);
        head[0] = 1;
        head.writeUInt16BE(bytes.length, 1);
        parts.push(head, bytes);
      } else {
        parts.push(classFile.subarray(offset, offset + 3 + length));
      }
      offset += 3 + length;
      continue;
    }
    const size = ENTRY_SIZE[tag];
    parts.push(classFile.subarray(offset, offset + 1 + size));
    offset += 1 + size;
    if (tag === 5 || tag === 6) index++;
  }
  if (!changed) return classFile;
  parts.push(classFile.subarray(end));
  return Buffer.concat(parts);
}

/** The entry name of a class after relocation (`a/B.class`, `a/B$1.class`; any entry under a relocated package), or the name unchanged. */
export function relocatedEntryName(name: string, relocations: readonly ClassRelocation[]): string {
  return entryName(name, relocations.map(normalizeRelocation));
}

function entryName(name: string, relocations: readonly Relocation[]): string {
  for (const r of relocations) {
    if (r.package) {
      if (name.startsWith(`${r.from}/`)) return `${r.to}${name.slice(r.from.length)}`;
    } else if (name === `${r.from}.class` || (name.startsWith(`${r.from}$`) && name.endsWith('.class'))) {
      return `${r.to}${name.slice(r.from.length)}`;
    }
  }
  return name;
}

/** Applies relocations to every class of a JAR's entries: renames the relocated classes' entries and rewrites every class. */
export function relocateEntries(entries: Map<string, Buffer>, given: readonly ClassRelocation[]): Map<string, Buffer> {
  if (given.length === 0) return entries;
  given.forEach(checkRelocation);
  const relocations = given.map(normalizeRelocation);
  // Constants go through every relocation in turn, an entry's name through the first that matches: a relocation whose
  // new name another one would move again would leave classes named where their entries are not.
  // DeployTimeArtifact refuses the same at synth (the rule is shared).
  const chained = findChainedRelocation(relocations);
  if (chained) {
    const [a, b] = [relocations[chained.index], relocations[chained.movedBy]];
    throw new PermanentError(`relocation ${JSON.stringify(a)} renames classes into ${JSON.stringify(b)}'s name, which would move them again; relocate each class to its final name directly, to a name no other relocation matches.`);
  }
  const out = new Map<string, Buffer>();
  for (const [name, data] of entries) {
    const target = entryName(name, relocations);
    if (target !== name && entries.has(target)) throw new PermanentError(`relocating '${name}' would overwrite '${target}', which the merged JAR already holds.`);
    const isClassFile = name.endsWith('.class') && data.length >= 10 && data.readUInt32BE(0) === 0xcafebabe;
    out.set(target, isClassFile ? rewriteClass(data, relocations) : data);
  }
  return out;
}

/** Whether a JAR entry belongs to one of the given classes (the class or one of its nested classes). */
export function isEntryOfClasses(name: string, classes: readonly string[]): boolean {
  return classes.some(c => name === `${c}.class` || (name.startsWith(`${c}$`) && name.endsWith('.class')));
}
