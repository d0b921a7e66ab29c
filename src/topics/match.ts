import { containsCjk, foldText } from '../normalize/fold.js';
import { parseQuery, type QueryNode } from './query.js';

/** What a topic query is matched against: the item's plain text, already folded with foldText. */
export interface MatchDocument {
  foldedText: string;
}

export type Matcher = (document: MatchDocument) => boolean;

const WORD_CHAR = '[\\p{L}\\p{N}]';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Latin-script terms match whole words ("us" does not match "must"; "u.s." matches "U.S."), a trailing "*" matches
 * any word continuation, and CJK terms match anywhere since those scripts do not separate words.
 */
function termPattern(value: string, prefix: boolean): RegExp {
  const folded = foldText(value);
  const body = escapeRegExp(folded).replace(/\s+/g, '\\s+');
  if (containsCjk(folded)) return new RegExp(body, 'u');
  const head = new RegExp(WORD_CHAR, 'u').test(folded[0] ?? '') ? `(?<!${WORD_CHAR})` : '';
  const lastChar = folded[folded.length - 1] ?? '';
  const tail = prefix ? '' : new RegExp(WORD_CHAR, 'u').test(lastChar) ? `(?!${WORD_CHAR})` : '';
  return new RegExp(head + body + tail, 'u');
}

function compileNode(node: QueryNode): Matcher {
  switch (node.kind) {
    case 'term':
    case 'phrase': {
      const pattern = termPattern(node.value, node.kind === 'term' && node.prefix);
      return (document) => pattern.test(document.foldedText);
    }
    case 'not': {
      const operand = compileNode(node.operand);
      return (document) => !operand(document);
    }
    case 'and': {
      const operands = node.operands.map(compileNode);
      return (document) => operands.every((operand) => operand(document));
    }
    case 'or': {
      const operands = node.operands.map(compileNode);
      return (document) => operands.some((operand) => operand(document));
    }
  }
}

/** Compiles a query once into a predicate; throws QueryError for invalid syntax. */
export function compileQuery(query: string | QueryNode): Matcher {
  return compileNode(typeof query === 'string' ? parseQuery(query) : query);
}

export function matchDocument(parts: Array<string | null | undefined>): MatchDocument {
  return { foldedText: foldText(parts.filter(Boolean).join('\n')) };
}
