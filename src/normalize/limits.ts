/** Bounds on what one document may bring in: a feed of 100,000 items or a 10 MB description is cut, not stored whole. */
import type { DocumentLimits } from '../model/settings.js';
import type { ParsedItem } from '../parse/index.js';

export interface LimitedDocument {
  items: ParsedItem[];
  /** Items left out past maxItems. */
  droppedItems: number;
  /** Item texts cut to maxItemChars. */
  cutTexts: number;
}

const TEXT_FIELDS = ['title', 'contentHtml', 'summaryHtml', 'contentText', 'author'] as const;

/** Applies the limits; the HTML cut mid-tag is mended by the sanitizer that runs next. */
export function limitDocument(items: readonly ParsedItem[], limits: DocumentLimits): LimitedDocument {
  let cutTexts = 0;
  const kept = items.slice(0, limits.maxItems).map((item) => {
    let copy: ParsedItem | undefined;
    for (const field of TEXT_FIELDS) {
      const text = item[field];
      if (text !== undefined && text.length > limits.maxItemChars) {
        copy ??= { ...item };
        copy[field] = text.slice(0, limits.maxItemChars);
        cutTexts++;
      }
    }
    return copy ?? item;
  });
  return { items: kept, droppedItems: Math.max(0, items.length - limits.maxItems), cutTexts };
}
