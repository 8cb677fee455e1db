// When one relocation of a merged JAR chains into another: the deploy-time builder (lambda/artifact-builder/relocate.ts) refuses
// it, and DeployTimeArtifact refuses it at synth with the same rule (dependency-free, so both import it).

/** A relocation as the builder applies it: internal names, `package` already read as a boolean. */
export interface RelocationRule {
  readonly from: string;
  readonly to: string;
  readonly package: boolean;
}

/**
 * Whether `other` would move some name `relocation` produces again. `relocation` produces its new name and, for a
 * package, the names under it (`to/...`), for a class, its nested classes (`To$...`). `other` moves its own name and,
 * for a package, the names under it (`from/...`), for a class, its nested classes. The two regions meet when either
 * name lies in the other's region: `a -> b` then `b -> c` (or `b/s -> c`, which moves the part of `b` that holds `a/s`).
 * The builder rewrites constants through every relocation in turn but an entry's name through the first that matches,
 * so such a pair would leave classes named where their entries are not.
 */
export function movesAgain(relocation: RelocationRule, other: RelocationRule): boolean {
  const { to } = relocation;
  const { from } = other;
  return to === from
    || to.startsWith(`${from}${other.package ? '/' : '$'}`)
    || from.startsWith(`${to}${relocation.package ? '/' : '$'}`);
}

/**
 * The first relocation (by position) whose new name another relocation of the same merged JAR would move again, with
 * the index of that other one; `undefined` when none chains.
 */
export function findChainedRelocation(relocations: readonly RelocationRule[]): { readonly index: number; readonly movedBy: number } | undefined {
  for (const [index, relocation] of relocations.entries()) {
    const movedBy = relocations.findIndex((other, j) => j !== index && movesAgain(relocation, other));
    if (movedBy >= 0) return { index, movedBy };
  }
  return undefined;
}
