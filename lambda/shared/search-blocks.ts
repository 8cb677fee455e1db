// OpenSearch write blocks (`cluster_block_exception`): which block an error names and what fixes it, for the sink's writer and the index handler.

/**
 * The block named by a `cluster_block_exception` (`index.blocks.write`, `index.blocks.read_only_allow_delete`, ...), or undefined
 * when the error is not a block. https://repost.aws/knowledge-center/opensearch-403-clusterblockexception lists the ones AWS sets.
 */
export function blockOf(type: string | undefined, message: string | undefined): string | undefined {
  if (type !== 'cluster_block_exception' && !/cluster_block_exception/.test(message ?? '')) return undefined;
  const text = message ?? '';
  if (/FORBIDDEN\/8\/|index write \(api\)/.test(text)) return 'index.blocks.write';
  if (/\/12\/|read-only[- ]\/?\s*allow[- ]delete|read_only_allow_delete|flood-stage/.test(text)) return 'index.blocks.read_only_allow_delete';
  if (/FORBIDDEN\/5\/|index read-only \(api\)/.test(text)) return 'index.blocks.read_only';
  if (/FORBIDDEN\/6\/|cluster read-only/.test(text)) return 'cluster.blocks.read_only';
  return 'a cluster block';
}

/** What to do about a write block, for the sink's and the index handler's errors. */
export function writeBlockFix(block: string): string {
  return `OpenSearch Service sets write blocks when free storage or JVM memory runs low (and UltraWarm indexes are read-only): `
    + `free storage or scale the domain (docs/OPERATIONS.md); ${clearing(block)}`;
}

function clearing(block: string): string {
  if (block.startsWith('cluster.')) return `a block set by hand is cleared with PUT _cluster/settings {"persistent": {"${block}": null}}`;
  if (block.startsWith('index.')) return `a block set by hand is cleared with PUT <index>/_settings {"${block}": null}`;
  return 'GET _cluster/settings and <index>/_settings show which block is set';
}
