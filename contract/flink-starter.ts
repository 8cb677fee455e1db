// The Flink starter's waits: the handler waits them, the construct checks at synth that they end before the provider's limit.

/** The custom resource provider's `totalTimeout` for the starter: past it the deploy fails with the provider's generic timeout. */
export const FLINK_STARTER_PROVIDER_TIMEOUT_SECONDS = 30 * 60;

/** How long past `startTimeout` + soak the starter waits for CloudWatch to publish the restart metric's datapoints. */
export const FLINK_STARTER_METRIC_GRACE_SECONDS = 5 * 60;

/**
 * The longest the starter may wait before failing with its own error. The provider gives up after `totalTimeout` divided
 * by its 15 s query interval polls, so no earlier than 30 minutes; the starter fails at its first poll past its deadline
 * (within 15 s plus one call). Two minutes of margin keep the starter's named error first.
 */
export const FLINK_STARTER_DEADLINE_SECONDS = FLINK_STARTER_PROVIDER_TIMEOUT_SECONDS - 2 * 60;
