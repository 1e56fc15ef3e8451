// Splits a SQL script into statements the way the Supabase CLI does before recording them in
// supabase_migrations.schema_migrations.statements: split on `;` outside quotes, comments and
// dollar-quoted bodies; each statement keeps its leading comments, loses its trailing `;` and
// surrounding whitespace; empty statements are dropped.

const DOLLAR_TAG = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/;

/** Index just past the end of the quoted/commented span that starts at `i`, or `i` if none does. */
function skipSpan(text: string, i: number): number {
  const two = text.slice(i, i + 2);
  if (two === "--") {
    const end = text.indexOf("\n", i);
    return end === -1 ? text.length : end + 1;
  }
  if (two === "/*") {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      if (text.startsWith("/*", j)) {
        depth++;
        j++;
      } else if (text.startsWith("*/", j)) {
        depth--;
        j++;
        if (depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  const ch = text[i];
  if (ch === "'" || ch === '"') {
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] !== ch) continue;
      if (text[j + 1] === ch) {
        j++;
        continue;
      }
      return j + 1;
    }
    return text.length;
  }
  if (ch === "$") {
    // A `$1` parameter or an identifier containing `$` is not a dollar quote.
    const prev = text[i - 1];
    if (prev !== undefined && /[A-Za-z0-9_$]/.test(prev)) return i;
    const tag = DOLLAR_TAG.exec(text.slice(i))?.[0];
    if (!tag) return i;
    const end = text.indexOf(tag, i + tag.length);
    return end === -1 ? text.length : end + tag.length;
  }
  return i;
}

export function splitSqlStatements(text: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const push = (raw: string) => {
    const trimmed = raw.replace(/;+$/, "").trim();
    if (trimmed) statements.push(trimmed);
  };
  while (i < text.length) {
    const next = skipSpan(text, i);
    if (next !== i) {
      i = next;
      continue;
    }
    if (text[i] === ";") {
      push(text.slice(start, i + 1));
      start = i + 1;
    }
    i++;
  }
  push(text.slice(start));
  return statements;
}
