// Filter values shared by the queries, the API schemas and the pages' URL state. No imports: the
// pages' client bundles read this file.

/**
 * How a dead letter's last attempt failed, as the worker classified it: `permanent` fails again on a
 * retry until the code or the data changes; `transient` (downstream down, timeout) may succeed later.
 */
export const FAILURE_CLASSES = ['transient', 'permanent'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Processing state of a receipt's event: `pending` covers events waiting or being processed. */
export const PROCESSING_FILTERS = ['processed', 'pending', 'dead', 'discarded'] as const;
export type ProcessingFilter = (typeof PROCESSING_FILTERS)[number];
