// JSON text made safe for JSON.parse where integers beyond 2^53 must keep their digits (BIGINT keys and values).

const DIGIT = (c: number) => c >= 48 && c <= 57;

/** The JSON text with every integer literal outside strings that is not a safe integer put in quotes, so it parses to its digits. */
export function quoteUnsafeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string: skip to its closing quote, past escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      i++;
    } else if (c === 45 || DIGIT(c)) {
      const start = i;
      let integer = true;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (DIGIT(d)) continue;
        if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) integer = false;
        else break;
      }
      if (integer && i - start > 15 && !Number.isSafeInteger(Number(text.slice(start, i)))) {
        out += `${text.slice(copied, start)}"${text.slice(start, i)}"`;
        copied = i;
      }
    } else {
      i++;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}
