// IAM and OpenSearch security-plugin permission sets of AgentSearch.

/** HTTP verbs a reader signs: GET/HEAD documents, POST `_search`, `_mget`, `_count`. */
export const SEARCH_READ_ACTIONS = ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost'];

/** A writer also PUTs `_bulk` and DELETEs; GET/POST cover `_mget` of stored documents before a write. */
export const SEARCH_WRITE_ACTIONS = ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpDelete'];

/** Every HTTP verb, for the index handler (the FGAC master user) only. */
export const SEARCH_ADMIN_ACTIONS = ['es:ESHttpGet', 'es:ESHttpHead', 'es:ESHttpPost', 'es:ESHttpPut', 'es:ESHttpDelete', 'es:ESHttpPatch'];

/** FGAC role of readers: search and get on the granted indexes; `_msearch`/`_mget` are cluster-level composite actions. */
export const FGAC_READ = {
  clusterPermissions: ['cluster_composite_ops_ro'],
  allowedActions: ['read'],
};

/** FGAC role of writers: bulk index/delete with external versions, and multi-get for vector reuse; no mapping changes. */
export const FGAC_WRITE = {
  clusterPermissions: ['indices:data/write/bulk', 'indices:data/read/mget'],
  allowedActions: [
    'indices:data/write/bulk*',
    'indices:data/write/index',
    'indices:data/write/delete',
    'indices:data/read/get',
    'indices:data/read/mget*',
  ],
};
