import { defineHandler } from './types';

/**
 * Events the app accepts, dedupes and shows, with no business action of its own (yet): processing
 * marks them processed. Listing an event here is a decision, not a gap; the registry's type makes
 * the choice explicit for every event a provider documents.
 */
export const recordOnly = defineHandler({ parse: () => null, apply: async () => 'applied' as const });
