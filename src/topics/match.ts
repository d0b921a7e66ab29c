import { containsCjk, foldText } from '../normalize/fold.js';
import { parseQuery, type Field, type QueryNode } from './query.js';

/** Text of one field: as written (for /regex/) and folded (for terms and phrases). */
export interface FieldText {
  raw: string;
  folded: string;
}

/** What a topic query is matched against: the item's fields, prepared once per item. */
export interface MatchDocument {
  fields: Record<Field, FieldText>;
  publishedAt: Date;
}

export interface MatchableItem {
  title: string;
  summary?: string | null;
  contentText?: string | null;
  author?: string | null;
  categories?: readonly string[];
  language?: string | null;
  publishedAt: Date;
}

const fieldText = (raw: string): FieldText => ({ raw, folded: foldText(raw) });

/** Prepares an item for matching. `sourceNames` are its source's id and tags. */
export function matchDocument(item: MatchableItem, sourceNames: readonly string[] = []): MatchDocument {
  const text = [item.title, item.summary, item.contentText].filter(Boolean).join('\n');
  return {
    fields: {
      title: fieldText(item.title),
      text: fieldText(text),
      author: fieldText(item.author ?? ''),
      category: fieldText((item.categories ?? []).join('\n')),
      source: fieldText(sourceNames.join('\n')),
      lang: fieldText(item.language ?? ''),
    },
    publishedAt: item.publishedAt,
  };
}

export type Matcher = (document: MatchDocument, now?: Date) => boolean;

const WORD_CHAR = '[\\p{L}\\p{N}]';
const IS_WORD_CHAR = new RegExp(WORD_CHAR, 'u');

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The pattern of a term or phrase over folded text. Latin-script terms match whole words ("us" does not match
 * "museum"; "u.s." matches "U.S."), a trailing "*" any continuation, and CJK terms match anywhere since those
 * scripts do not separate words (日米 matches 日米防衛相).
 */
export function termPattern(value: string, prefix: boolean): RegExp {
  const folded = foldText(value);
  const body = escapeRegExp(folded).replace(/\s+/g, '\\s+');
  if (containsCjk(folded)) return new RegExp(body, 'u');
  const head = IS_WORD_CHAR.test(folded[0] ?? '') ? `(?<!${WORD_CHAR})` : '';
  const tail = prefix || !IS_WORD_CHAR.test(folded[folded.length - 1] ?? '') ? '' : `(?!${WORD_CHAR})`;
  return new RegExp(head + body + tail, 'u');
}

function compileNode(node: QueryNode, field: Field): Matcher {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      const pattern = termPattern(node.value, node.kind === 'term' && node.prefix);
      return (document) => pattern.test(document.fields[field].folded);
    }
    case 'regex': {
      const pattern = new RegExp(node.pattern, `${node.flags}u`);
      return (document) => pattern.test(document.fields[field].raw);
    }
    case 'field':
      return compileNode(node.operand, node.field);
    case 'since':
      return (document, now = new Date()) => now.getTime() - document.publishedAt.getTime() <= node.seconds * 1000;
    case 'not': {
      const operand = compileNode(node.operand, field);
      return (document, now) => !operand(document, now);
    }
    case 'and': {
      const operands = node.operands.map((operand) => compileNode(operand, field));
      return (document, now) => operands.every((operand) => operand(document, now));
    }
    case 'or': {
      const operands = node.operands.map((operand) => compileNode(operand, field));
      return (document, now) => operands.some((operand) => operand(document, now));
    }
  }
}

/** Compiles a query once into a predicate (default field: text); throws QueryError for invalid syntax. */
export function compileQuery(query: string | QueryNode): Matcher {
  return compileNode(typeof query === 'string' ? parseQuery(query) : query, 'text');
}

/**
 * Words any match needs at least one of, as the word index sees text (see `indexWords`), or undefined when the
 * query can match without a literal word (NOT, regex, prefix wildcards, non-text fields, since:).
 */
export function requiredWords(node: QueryNode, toWords: (text: string) => string[]): Set<string> | undefined {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      if (node.kind === 'term' && node.prefix) return undefined;
      const words = toWords(node.value);
      // A lone CJK character is not a word the index holds (it keeps CJK as character pairs).
      if (words.length === 0 || (containsCjk(node.value) && [...node.value.trim()].length < 2)) return undefined;
      return new Set([words.reduce((longest, word) => (word.length > longest.length ? word : longest))]);
    }
    case 'field':
      return node.field === 'title' || node.field === 'text' ? requiredWords(node.operand, toWords) : undefined;
    case 'and': {
      const sets = node.operands.map((operand) => requiredWords(operand, toWords)).filter((set): set is Set<string> => set !== undefined);
      return sets.length ? sets.reduce((smallest, set) => (set.size < smallest.size ? set : smallest)) : undefined;
    }
    case 'or': {
      const union = new Set<string>();
      for (const operand of node.operands) {
        const set = requiredWords(operand, toWords);
        if (!set) return undefined;
        set.forEach((word) => union.add(word));
      }
      return union;
    }
    default:
      return undefined;
  }
}
