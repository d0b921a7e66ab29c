/**
 * The topic query language: a lexer, a recursive-descent parser producing an AST, a printer (AST back to text)
 * and a compiler from AST to a predicate over an item's searchable text.
 *
 *   query   := or
 *   or      := and ("OR" and)*
 *   and     := unary (["AND"] unary)*        adjacent terms are an implicit AND
 *   unary   := "NOT" unary | "-" primary | primary
 *   primary := "(" or ")" | PHRASE | TERM    TERM may end in "*" (prefix wildcard)
 */

export type QueryNode =
  | { kind: 'term'; value: string; prefix: boolean }
  | { kind: 'phrase'; value: string }
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
  | { type: 'term' | 'phrase'; column: number; text: string; value: string };

const OPERATOR_WORDS = { AND: 'and', OR: 'or', NOT: 'not' } as const;

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
    } else if (ch === '-' && i + 1 < query.length && !/[\s)]/.test(query[i + 1]!)) {
      tokens.push({ type: 'minus', column, text: ch });
      i++;
    } else {
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

  const startsUnary = (token: Token | undefined) =>
    token !== undefined && ['lparen', 'minus', 'not', 'term', 'phrase'].includes(token.type);

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
    if (token.type === 'lparen') {
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
    if (token.type === 'phrase') {
      position++;
      return { kind: 'phrase', value: token.value };
    }
    if (token.type === 'term') {
      position++;
      const prefix = token.value.length > 1 && token.value.endsWith('*');
      const value = prefix ? token.value.slice(0, -1) : token.value;
      if (value.includes('*')) throw new QueryError('"*" is only allowed at the end of a term', token.column);
      return { kind: 'term', value, prefix };
    }
    return unexpected(token);
  };

  if (tokens.length === 0) throw new QueryError('empty query', 1);
  const root = parseOr();
  if (position < tokens.length) unexpected(tokens[position]);
  return root;
}

/** Joins operands, flattening nested nodes of the same kind: (a OR (b OR c)) is a OR b OR c. */
function combine(kind: 'and' | 'or', operands: QueryNode[]): QueryNode {
  const flat = operands.flatMap((operand) => (operand.kind === kind ? operand.operands : [operand]));
  return flat.length === 1 ? flat[0]! : { kind, operands: flat };
}

/** Prints an AST back to query text; parseQuery(printQuery(ast)) yields the same AST. */
export function printQuery(node: QueryNode): string {
  switch (node.kind) {
    case 'term':
      return node.value + (node.prefix ? '*' : '');
    case 'phrase':
      return `"${node.value}"`;
    case 'not':
      return `NOT ${wrap(node.operand, node)}`;
    case 'and':
      return node.operands.map((operand) => wrap(operand, node)).join(' AND ');
    case 'or':
      return node.operands.map((operand) => wrap(operand, node)).join(' OR ');
  }
}

function wrap(child: QueryNode, parent: QueryNode): string {
  const needsParens =
    (child.kind === 'or' && parent.kind !== 'or') || (child.kind === 'and' && parent.kind === 'not');
  const text = printQuery(child);
  return needsParens ? `(${text})` : text;
}
