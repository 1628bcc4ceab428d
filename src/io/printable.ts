// Model text shown on a terminal (sample previews, vocabularies): a corpus can hold any code
// point, and a carriage return, an escape sequence or a backspace printed raw would move the
// cursor, recolour the terminal or overwrite the progress bar. Such characters are shown escaped.

/** Controls, separators other than the space, and invisible format characters (Unicode C and Z). */
const INVISIBLE = /[\p{C}\p{Z}]/u;

/** One code point as something visible: '\n', '\t', '\r', '\u{1b}' for invisibles, else itself. */
export function escapeChar(ch: string): string {
  if (ch === ' ' || !INVISIBLE.test(ch)) return ch;
  if (ch === '\n') return '\\n';
  if (ch === '\t') return '\\t';
  if (ch === '\r') return '\\r';
  return `\\u{${ch.codePointAt(0)!.toString(16)}}`;
}

/** Text for a terminal: newlines kept (and tabs, harmless), every other invisible escaped. */
export function printableText(text: string): string {
  let out = '';
  for (const ch of text) out += ch === '\n' || ch === '\t' ? ch : escapeChar(ch);
  return out;
}

/**
 * Hard-wrap lines to `columns` code points. The progress bar turns the terminal's own wrapping
 * off while it runs, so a long line would be cut at the edge instead of wrapped.
 */
export function wrapLines(text: string, columns: number): string {
  if (!(columns > 0)) return text;
  return text
    .split('\n')
    .map((line) => {
      const cps = Array.from(line);
      if (cps.length <= columns) return line;
      const parts: string[] = [];
      for (let i = 0; i < cps.length; i += columns) parts.push(cps.slice(i, i + columns).join(''));
      return parts.join('\n');
    })
    .join('\n');
}
