import { containsCjk, foldText } from '../normalize/fold.js';
import { type Field, parseQuery, type QueryNode } from './query.js';
import { compileRegex } from './regex.js';

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
      const pattern = compileRegex(node.pattern, node.flags);
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
 * Word clauses any match needs: for every clause, at least one of its words is in the item's text (as `toWords`
 * splits it). Undefined when nothing can be required (NOT, regex, prefix wildcards, non-text fields, since:).
 * An AND needs all its operands' clauses; an OR needs one word from one clause of each alternative; a phrase needs
 * each of its words.
 */
export function requiredClauses(node: QueryNode, toWords: (text: string) => string[]): Array<Set<string>> | undefined {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      if (node.kind === 'term' && node.prefix) return undefined;
      // A lone CJK character is not a word the index holds (it keeps CJK as character pairs).
      if (containsCjk(node.value) && [...node.value.trim()].length < 2) return undefined;
      const words = [...new Set(toWords(node.value))];
      return words.length ? words.map((word) => new Set([word])) : undefined;
    }
    case 'field':
      return node.field === 'title' || node.field === 'text' ? requiredClauses(node.operand, toWords) : undefined;
    case 'and': {
      const clauses = node.operands.flatMap((operand) => requiredClauses(operand, toWords) ?? []);
      return clauses.length ? clauses : undefined;
    }
    case 'or': {
      const union = new Set<string>();
      for (const operand of node.operands) {
        const clauses = requiredClauses(operand, toWords);
        if (!clauses) return undefined;
        for (const word of bestClause(clauses)) union.add(word);
      }
      return [union];
    }
    default:
      return undefined;
  }
}

/**
 * The clause to look a topic up by: the one whose shortest word is longest (long words are rarer, so fewer items
 * reach the topic), then the smallest.
 */
export function bestClause(clauses: Array<Set<string>>): Set<string> {
  const rank = (clause: Set<string>) => Math.min(...[...clause].map((word) => word.length));
  return clauses.reduce((best, clause) => (rank(clause) > rank(best) || (rank(clause) === rank(best) && clause.size < best.size) ? clause : best));
}
