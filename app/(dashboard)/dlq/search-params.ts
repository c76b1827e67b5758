import { createLoader, createSerializer, type inferParserType } from 'nuqs/server';
import { parseAsEventType, parseAsId, parseAsText } from '@/lib/api/page-params';

export const dlqParsers = { event_type: parseAsEventType, error: parseAsText, selected: parseAsId };
export type DlqParams = inferParserType<typeof dlqParsers>;

export const loadDlqParams = createLoader(dlqParsers);
export const dlqUrl = createSerializer(dlqParsers);
