/**
 * Just enough XML reading for ONVIF device-service replies: find an element's text by local name,
 * ignoring namespace prefixes. Replies are size-bounded before they get here, and the patterns
 * have no nested quantifiers, so a hostile reply cannot make this slow.
 */
const PREFIX = '(?:[A-Za-z_][\\w.-]*:)?';

function decodeEntities(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d{1,7}|#x[0-9A-Fa-f]{1,6});/g, (_, e: string) => {
    switch (e) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default: {
        const code = e.startsWith('#x') ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code <= 0x10ffff ? String.fromCodePoint(code) : '';
      }
    }
  });
}

/** Text content of the first element named `localName` (leaf elements only). */
export function elementText(xml: string, localName: string): string | undefined {
  const re = new RegExp(`<${PREFIX}${localName}(?:\\s[^<>]*)?>([^<]*)</${PREFIX}${localName}\\s*>`);
  const m = re.exec(xml);
  return m ? decodeEntities(m[1]!).trim() : undefined;
}

/** Raw inner XML of the first element named `localName`. */
export function elementInner(xml: string, localName: string): string | undefined {
  const open = new RegExp(`<${PREFIX}${localName}(?:\\s[^<>]*)?>`).exec(xml);
  if (!open) return undefined;
  const rest = xml.slice(open.index + open[0].length);
  const close = new RegExp(`</${PREFIX}${localName}\\s*>`).exec(rest);
  return close ? rest.slice(0, close.index) : undefined;
}

export function hasElement(xml: string, localName: string): boolean {
  return new RegExp(`<${PREFIX}${localName}[\\s/>]`).test(xml);
}
