/**
 * A small strict XML well-formedness check (no DTDs, no namespaces processing): balanced tags,
 * quoted unique attributes, only the five predefined entities and numeric character references,
 * no stray `<` or `&`, one root element. Used by tests to check the SVG export; isomorphic, so
 * the e2e specs can check a downloaded SVG with it too.
 *
 * Returns null when well formed, else a message with the offset of the first problem.
 */
const NAME = /^[A-Za-z_:][A-Za-z0-9_:.\-]*/;
const CHAR_REF = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/;

export function checkXml(text: string): string | null {
  let i = 0;
  const open: string[] = [];
  let roots = 0;
  const fail = (what: string) => `offset ${i}: ${what} near ${JSON.stringify(text.slice(i, i + 40))}`;
  if (text.startsWith('<?xml')) {
    const end = text.indexOf('?>');
    if (end < 0) return fail('unterminated XML declaration');
    i = end + 2;
  }
  const checkText = (chunk: string, at: number): string | null => {
    for (let j = 0; j < chunk.length; j++) {
      const c = chunk[j];
      if (c === '<') return `offset ${at + j}: stray '<'`;
      if (c === '&') {
        const m = CHAR_REF.exec(chunk.slice(j));
        if (!m) return `offset ${at + j}: bad entity ${JSON.stringify(chunk.slice(j, j + 10))}`;
        j += m[0].length - 1;
      }
      const code = c.charCodeAt(0);
      if (code < 0x20 && c !== '\t' && c !== '\n' && c !== '\r') return `offset ${at + j}: control character U+${code.toString(16)}`;
    }
    return null;
  };
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunkEnd = lt < 0 ? text.length : lt;
    const chunk = text.slice(i, chunkEnd);
    if (open.length === 0 && chunk.trim() !== '') return fail('text outside the root element');
    const textError = checkText(chunk, i);
    if (textError) return textError;
    i = chunkEnd;
    if (lt < 0) break;
    if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end < 0) return fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', i)) {
      if (open.length === 0) return fail('CDATA outside the root');
      const end = text.indexOf(']]>', i);
      if (end < 0) return fail('unterminated CDATA');
      i = end + 3;
      continue;
    }
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i);
      if (end < 0) return fail('unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (text.startsWith('</', i)) {
      const m = NAME.exec(text.slice(i + 2));
      if (!m) return fail('bad end tag');
      const expected = open.pop();
      if (expected !== m[0]) return fail(`end tag </${m[0]}> does not match <${expected ?? '(none)'}>`);
      i += 2 + m[0].length;
      while (/\s/.test(text[i] ?? '')) i++;
      if (text[i] !== '>') return fail('end tag not closed');
      i++;
      continue;
    }
    // Start tag.
    const m = NAME.exec(text.slice(i + 1));
    if (!m) return fail('bad tag name');
    const name = m[0];
    if (open.length === 0) {
      roots++;
      if (roots > 1) return fail('second root element');
    }
    i += 1 + name.length;
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(text.slice(i))![0].length;
      i += ws;
      if (text.startsWith('/>', i)) {
        i += 2;
        break;
      }
      if (text[i] === '>') {
        i++;
        open.push(name);
        break;
      }
      if (ws === 0) return fail('attributes must be separated by white space');
      const attr = NAME.exec(text.slice(i));
      if (!attr) return fail('bad attribute name');
      if (seen.has(attr[0])) return fail(`duplicate attribute ${attr[0]}`);
      seen.add(attr[0]);
      i += attr[0].length;
      const eq = /^\s*=\s*/.exec(text.slice(i));
      if (!eq) return fail('attribute without =');
      i += eq[0].length;
      const quote = text[i];
      if (quote !== '"' && quote !== "'") return fail('unquoted attribute value');
      const end = text.indexOf(quote, i + 1);
      if (end < 0) return fail('unterminated attribute value');
      const valueError = checkText(text.slice(i + 1, end), i + 1);
      if (valueError) return valueError;
      i = end + 1;
    }
  }
  if (open.length > 0) return `unclosed element <${open[open.length - 1]}>`;
  if (roots !== 1) return 'no root element';
  return null;
}
