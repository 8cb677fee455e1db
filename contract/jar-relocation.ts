// When one relocation of a merged JAR chains into another: the deploy-time builder (lambda/artifact-builder/relocate.ts) refuses
// it, and DeployTimeArtifact refuses it at synth with the same rule (dependency-free, so both import it).

/** A relocation as the builder applies it: internal names, `package` already read as a boolean. */
export interface RelocationRule {
  readonly from: string;
  readonly to: string;
  readonly package: boolean;
}

/**
 * Whether, and how, `other` would move some name `relocation` produces again. `relocation` produces its new name and, for a
 * package, the names under it (`to/...`), for a class, its nested classes (`To$...`). `other` moves its own name and,
 * for a package, the names under it (`from/...`), for a class, its nested classes. The two regions meet when either
 * name lies in the other's region: `a -> b` then `b -> c` (or `b/s -> c`, which moves the part of `b` that holds `a/s`).
 * The builder rewrites constants through every relocation in turn but an entry's name through the first that matches,
 * so such a pair would leave classes named where their entries are not. `lands-in`: the new name lies in `other`'s region;
 * `holds`: `other`'s name lies in the new name's; undefined: they do not meet.
 */
function chainOf(relocation: RelocationRule, other: RelocationRule): 'lands-in' | 'holds' | undefined {
  const { to } = relocation;
  const { from } = other;
  if (to === from || to.startsWith(`${from}${other.package ? '/' : '$'}`)) return 'lands-in';
  return from.startsWith(`${to}${relocation.package ? '/' : '$'}`) ? 'holds' : undefined;
}

/**
 * The first relocation (by position) whose new name another relocation of the same merged JAR would move again, with
 * the index of that other one and how they meet; `undefined` when none chains.
 */
export function findChainedRelocation(relocations: readonly RelocationRule[]):
{ readonly index: number; readonly movedBy: number; readonly way: 'lands-in' | 'holds' } | undefined {
  for (const [index, relocation] of relocations.entries()) {
    for (const [movedBy, other] of relocations.entries()) {
      const way = movedBy === index ? undefined : chainOf(relocation, other);
      if (way) return { index, movedBy, way };
    }
  }
  return undefined;
}
