// The builder's error for failures that retrying will not fix.

/** A download failed for a reason retrying will not fix (4xx, checksum mismatch, bad archive). */
export class PermanentError extends Error {}
