/**
 * A small well-formedness check: every tag closes in order, attributes are quoted, and no
 * bare `&` or `<` appears in text. Enough for the XML junit.ts writes.
 */
export function assertWellFormedXml(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const token = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = token.exec(body)) !== null) {
    consumed = token.lastIndex;
    const [, closing, name, attrs, selfClosing, text] = m;
    const checkEntities = (s: string) => {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(s)) throw new Error(`bare & in ${JSON.stringify(s)}`);
    };
    if (text !== undefined) {
      checkEntities(text);
      if (stack.length === 0 && text.trim() !== '') throw new Error(`text outside the root: ${text}`);
      continue;
    }
    checkEntities(attrs ?? '');
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
    } else if (!selfClosing) {
      stack.push(name);
    }
  }
  if (consumed !== body.length) throw new Error(`unparsable XML at offset ${consumed}: ${body.slice(consumed, consumed + 40)}`);
  if (stack.length !== 0) throw new Error(`unclosed tags: ${stack.join(', ')}`);
}
