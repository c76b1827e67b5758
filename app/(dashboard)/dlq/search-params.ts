import { z } from 'zod';
import {
  firstValues,
  type RawSearchParams,
  toSearch,
  urlEventType,
  urlId,
  urlSource,
  urlText,
} from '@/lib/api/page-params';

const schema = z.object({ source: urlSource, event_type: urlEventType, error: urlText, selected: urlId });
export type DlqParams = z.infer<typeof schema>;

export const parseDlqParams = (sp: RawSearchParams): DlqParams => schema.parse(firstValues(sp));
export const dlqSearch = (p: DlqParams) => toSearch(p);
