/**
 * The topic query language: a lexer, a recursive-descent parser producing an AST, and a printer (AST back to text).
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*        adjacent terms are an implicit AND
 *   unary   := "NOT" unary | "-" primary | primary
 *   primary := "(" or ")" | FIELD ":" primary | "since:" DURATION | PHRASE | REGEX | TERM
 *
 * TERM may end in "*" (prefix wildcard); PHRASE is "…"; REGEX is /…/flags; FIELD is one of FIELDS.
 */
import { parseDuration } from '../model/duration.js';
import { editDistance } from '../model/text.js';
import { compileRegex, RegexSyntaxError } from './regex.js';

export const FIELDS = ['title', 'text', 'author', 'category', 'source', 'lang'] as const;
export type Field = (typeof FIELDS)[number];

export type QueryNode =
  | { kind: 'term'; value: string; prefix: boolean }
  | { kind: 'phrase'; value: string }
  | { kind: 'regex'; pattern: string; flags: string }
  | { kind: 'field'; field: Field; operand: QueryNode }
  | { kind: 'since'; duration: string; seconds: number }
  | { kind: 'not'; operand: QueryNode }
  | { kind: 'and'; operands: QueryNode[] }
  | { kind: 'or'; operands: QueryNode[] };

export class QueryError extends Error {
  /** 1-based column in the query text. */
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} at column ${column}`);
    this.name = 'QueryError';
    this.column = column;
  }
}

type Token =
  | { type: 'lparen' | 'rparen' | 'minus' | 'and' | 'or' | 'not'; column: number; text: string }
  | { type: 'term' | 'phrase'; column: number; text: string; value: string }
  | { type: 'regex'; column: number; text: string; pattern: string; flags: string }
  | { type: 'field'; column: number; text: string; field: Field | 'since' };

const OPERATOR_WORDS = { AND: 'and', OR: 'or', NOT: 'not' } as const;
const FIELD_NAMES = new Set<string>([...FIELDS, 'since']);

function suggestField(name: string): string {
  const [best] = [...FIELD_NAMES].sort((x, y) => editDistance(name, x) - editDistance(name, y));
  return best && editDistance(name, best) <= 2 ? `; did you mean "${best}:"?` : `; fields are ${[...FIELD_NAMES].map((field) => `${field}:`).join(' ')}`;
}

function readRegex(query: string, start: number): { end: number; pattern: string; flags: string } {
  let index = start + 1;
  let inClass = false;
  for (; index < query.length; index++) {
    const ch = query[index];
    if (ch === '\\') index++;
    else if (ch === '[') inClass = true;
    else if (ch === ']') inClass = false;
    else if (ch === '/' && !inClass) break;
  }
  if (index >= query.length) throw new QueryError('unterminated regular expression (missing closing /)', start + 1);
  const pattern = query.slice(start + 1, index);
  const flags = /^[a-z]*/.exec(query.slice(index + 1))![0];
  if (pattern === '') throw new QueryError('empty regular expression //', start + 1);
  if (/[^imsu]/.test(flags) || new Set(flags).size !== flags.length)
    throw new QueryError(`invalid regular expression flags "${flags}" (use i, m, s, u)`, index + 2);
  try {
    compileRegex(pattern, flags);
  } catch (error) {
    if (!(error instanceof RegexSyntaxError)) throw error;
    throw new QueryError(`invalid regular expression: ${error.message}`, start + 1);
  }
  return { end: index + 1 + flags.length, pattern, flags };
}

function tokenize(query: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < query.length) {
    const ch = query[i]!;
    const column = i + 1;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '(' || ch === ')') {
      tokens.push({ type: ch === '(' ? 'lparen' : 'rparen', column, text: ch });
      i++;
    } else if (ch === '"') {
      const end = query.indexOf('"', i + 1);
      if (end < 0) throw new QueryError('unterminated phrase (missing closing ")', column);
      const value = query.slice(i + 1, end).trim();
      if (value === '') throw new QueryError('empty phrase ""', column);
      tokens.push({ type: 'phrase', column, text: query.slice(i, end + 1), value });
      i = end + 1;
    } else if (ch === '/') {
      const { end, pattern, flags } = readRegex(query, i);
      tokens.push({ type: 'regex', column, text: query.slice(i, end), pattern, flags });
      i = end;
    } else if (ch === '-' && i + 1 < query.length && !/[\s)]/.test(query[i + 1]!)) {
      tokens.push({ type: 'minus', column, text: ch });
      i++;
    } else {
      const field = /^([a-z]+):/i.exec(query.slice(i));
      if (field) {
        const name = field[1]!.toLowerCase();
        if (!FIELD_NAMES.has(name)) throw new QueryError(`unknown field "${field[1]}:"${suggestField(name)}`, column);
        tokens.push({ type: 'field', column, text: field[0], field: name as Field | 'since' });
        i += field[0].length;
        continue;
      }
      let end = i;
      while (end < query.length && !/[\s()"]/.test(query[end]!)) end++;
      const text = query.slice(i, end);
      const operator = OPERATOR_WORDS[text as keyof typeof OPERATOR_WORDS];
      if (operator) tokens.push({ type: operator, column, text });
      else tokens.push({ type: 'term', column, text, value: text });
      i = end;
    }
  }
  return tokens;
}

/** Joins operands, flattening nested nodes of the same kind: (a OR (b OR c)) is a OR b OR c. */
function combine(kind: 'and' | 'or', operands: QueryNode[]): QueryNode {
  const flat = operands.flatMap((operand) => (operand.kind === kind ? operand.operands : [operand]));
  return flat.length === 1 ? flat[0]! : { kind, operands: flat };
}

/**
 * The query language's recursive-descent parser. Why it is long: the grammar's rules are nested functions sharing one
 * cursor over the query, read top to bottom as the grammar in the module comment.
 */
export function parseQuery(query: string): QueryNode {
  const tokens = tokenize(query);
  let position = 0;
  const peek = () => tokens[position];
  const endColumn = query.length + 1;

  const unexpected = (token: Token | undefined): never => {
    if (!token) throw new QueryError('unexpected end of query', endColumn);
    throw new QueryError(`unexpected "${token.text}"`, token.column);
  };

  const parseOr = (): QueryNode => {
    const operands = [parseAnd()];
    while (peek()?.type === 'or') {
      position++;
      operands.push(parseAnd());
    }
    return combine('or', operands);
  };

  const startsUnary = (token: Token | undefined) => token !== undefined && ['lparen', 'minus', 'not', 'term', 'phrase', 'regex', 'field'].includes(token.type);

  const parseAnd = (): QueryNode => {
    const operands = [parseUnary()];
    for (;;) {
      const token = peek();
      if (token?.type === 'and') {
        position++;
        operands.push(parseUnary());
      } else if (startsUnary(token)) {
        operands.push(parseUnary());
      } else {
        break;
      }
    }
    return combine('and', operands);
  };

  const parseUnary = (): QueryNode => {
    const token = peek();
    if (token?.type === 'not') {
      position++;
      return { kind: 'not', operand: parseUnary() };
    }
    if (token?.type === 'minus') {
      position++;
      return { kind: 'not', operand: parsePrimary() };
    }
    return parsePrimary();
  };

  const parsePrimary = (): QueryNode => {
    const token = peek();
    if (!token) return unexpected(token);
    switch (token.type) {
      case 'lparen': {
        position++;
        if (peek()?.type === 'rparen') throw new QueryError('empty parentheses', token.column);
        const inner = parseOr();
        if (peek()?.type !== 'rparen') {
          if (!peek()) throw new QueryError('missing ")" for "(" opened', token.column);
          return unexpected(peek());
        }
        position++;
        return inner;
      }
      case 'phrase':
        position++;
        return { kind: 'phrase', value: token.value };
      case 'regex':
        position++;
        return { kind: 'regex', pattern: token.pattern, flags: token.flags };
      case 'term': {
        position++;
        const prefix = token.value.length > 1 && token.value.endsWith('*');
        const value = prefix ? token.value.slice(0, -1) : token.value;
        if (value.includes('*')) throw new QueryError('"*" is only allowed at the end of a term', token.column);
        return { kind: 'term', value, prefix };
      }
      case 'field': {
        position++;
        const operandToken = peek();
        const adjacent = operandToken && operandToken.column === token.column + token.text.length;
        if (!operandToken || !adjacent || !['term', 'phrase', 'regex', 'lparen'].includes(operandToken.type)) {
          throw new QueryError(`expected a term, "phrase", /regex/ or (…) right after ${token.text}`, token.column);
        }
        if (token.field === 'since') {
          position++;
          const seconds = operandToken.type === 'term' ? parseDuration(operandToken.value) : undefined;
          if (seconds === undefined) throw new QueryError('since: needs a duration such as 12h, 7d or 30d', operandToken.column);
          return { kind: 'since', duration: (operandToken as { value: string }).value, seconds };
        }
        return { kind: 'field', field: token.field, operand: parsePrimary() };
      }
      default:
        return unexpected(token);
    }
  };

  if (tokens.length === 0) throw new QueryError('empty query', 1);
  const root = parseOr();
  if (position < tokens.length) unexpected(tokens[position]);
  return root;
}

/** Prints an AST back to query text; parseQuery(printQuery(ast)) yields the same AST. */
export function printQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return node.value + (node.prefix ? '*' : '');
    case 'phrase':
      return `"${node.value}"`;
    case 'regex':
      return `/${node.pattern}/${node.flags}`;
    case 'since':
      return `since:${node.duration}`;
    case 'field': {
      const operand = printQuery(node.operand);
      const simple = ['term', 'phrase', 'regex'].includes(node.operand.kind);
      return `${node.field}:${simple ? operand : `(${operand})`}`;
    }
    case 'not':
      return `NOT ${wrap(node.operand, node)}`;
    case 'and':
      return node.operands.map((operand) => wrap(operand, node)).join(' AND ');
    case 'or':
      return node.operands.map((operand) => wrap(operand, node)).join(' OR ');
  }
}

function wrap(child: QueryNode, parent: QueryNode): string {
  const needsParens = (child.kind === 'or' && parent.kind !== 'or') || (child.kind === 'and' && parent.kind === 'not');
  const text = printQuery(child);
  return needsParens ? `(${text})` : text;
}
