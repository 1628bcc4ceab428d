// A small, strict XML reader for the tests of loss.svg: it checks well-formedness (one root,
// balanced and properly nested tags, quoted attributes without duplicates, known entities, no
// stray text outside the root, no forbidden control characters) and returns the element tree.
// A scanner over characters, not regular expressions over markup.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Text directly inside the element, entities decoded. */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === ':';
}

function isNameChar(c: string): boolean {
  return isNameStart(c) || (c >= '0' && c <= '9') || c === '-' || c === '.';
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\t' || c === '\r';
}

export function parseXml(src: string): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    const line = src.slice(0, i).split('\n').length;
    throw new Error(`malformed XML at line ${line} (offset ${i}): ${msg}`);
  };
  for (let k = 0; k < src.length; k++) {
    const c = src.charCodeAt(k);
    if (c < 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) {
      i = k;
      fail(`control character U+${c.toString(16).padStart(4, '0')}`);
    }
  }
  const expect = (s: string) => {
    if (!src.startsWith(s, i)) fail(`expected ${JSON.stringify(s)}`);
    i += s.length;
  };
  const skipSpace = () => {
    while (i < src.length && isSpace(src[i])) i++;
  };
  const name = (): string => {
    if (!isNameStart(src[i] ?? '')) fail('expected a name');
    const start = i;
    while (i < src.length && isNameChar(src[i])) i++;
    return src.slice(start, i);
  };
  /** Decode entities in text up to (not including) `end`. */
  const decode = (raw: string): string => {
    let out = '';
    for (let k = 0; k < raw.length; k++) {
      if (raw[k] === '<') fail('"<" in text or attribute value');
      if (raw[k] !== '&') {
        out += raw[k];
        continue;
      }
      const semi = raw.indexOf(';', k);
      if (semi < 0) fail('"&" without ";"');
      const ent = raw.slice(k + 1, semi);
      if (ent in ENTITIES) out += ENTITIES[ent];
      else if (ent.startsWith('#x') && ent.length > 2 && [...ent.slice(2)].every((c) => '0123456789abcdefABCDEF'.includes(c))) out += String.fromCodePoint(parseInt(ent.slice(2), 16));
      else if (ent.startsWith('#') && ent.length > 1 && [...ent.slice(1)].every((c) => c >= '0' && c <= '9')) out += String.fromCodePoint(Number(ent.slice(1)));
      else fail(`unknown entity &${ent};`);
      k = semi;
    }
    return out;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i + 4);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (src.startsWith('<?', i)) {
        const end = src.indexOf('?>', i + 2);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else return;
    }
  };

  if (src.startsWith('<?xml', 0)) {
    const end = src.indexOf('?>');
    if (end < 0) fail('unterminated XML declaration');
    i = end + 2;
  }
  skipMisc();
  if (src[i] !== '<') fail('expected the root element');

  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  while (i < src.length) {
    if (src.startsWith('<!--', i) || src.startsWith('<?', i)) {
      if (stack.length === 0) break;
      skipMisc();
      continue;
    }
    if (src.startsWith('</', i)) {
      i += 2;
      const n = name();
      skipSpace();
      expect('>');
      const open = stack.pop();
      if (!open) fail(`closing tag </${n}> without an open element`);
      if (open!.name !== n) fail(`</${n}> closes <${open!.name}>`);
      if (stack.length === 0) break;
      continue;
    }
    if (src[i] === '<') {
      if (root && stack.length === 0) fail('a second root element');
      i++;
      const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
      for (;;) {
        const hadSpace = isSpace(src[i] ?? '');
        skipSpace();
        if (src.startsWith('/>', i) || src[i] === '>') break;
        if (!hadSpace) fail('attributes must be separated by white space');
        const a = name();
        skipSpace();
        expect('=');
        skipSpace();
        const q = src[i];
        if (q !== '"' && q !== "'") fail(`attribute ${a} is not quoted`);
        const end = src.indexOf(q, i + 1);
        if (end < 0) fail(`unterminated value of ${a}`);
        if (a in el.attrs) fail(`attribute ${a} given twice on <${el.name}>`);
        el.attrs[a] = decode(src.slice(i + 1, end));
        i = end + 1;
      }
      if (stack.length) stack[stack.length - 1].children.push(el);
      else root = el;
      if (src.startsWith('/>', i)) {
        i += 2;
        if (stack.length === 0) break;
      } else {
        i++;
        stack.push(el);
      }
      continue;
    }
    // text
    const next = src.indexOf('<', i);
    const raw = src.slice(i, next < 0 ? src.length : next);
    if (stack.length === 0) fail('text outside the root element');
    stack[stack.length - 1].text += decode(raw);
    i += raw.length;
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> is never closed`);
  skipMisc();
  if (i < src.length) fail('content after the root element');
  return root!;
}

/** Every element below `el` (depth first) that satisfies `pred`. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (pred(e)) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

/** Elements whose class attribute holds all the given classes. */
export function byClass(el: XmlElement, ...classes: string[]): XmlElement[] {
  return findAll(el, (e) => {
    const have = (e.attrs.class ?? '').split(' ');
    return classes.every((c) => have.includes(c));
  });
}
