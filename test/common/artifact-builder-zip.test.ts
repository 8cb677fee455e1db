// The builder's ZIP writer on many entries: one compression at a time (memory bounded by one entry), and the output reads back.
import { buildZip, extractZip, mergeJars } from '../../lambda/artifact-builder/build';

function entries(n: number): Map<string, Buffer> {
  return new Map(Array.from({ length: n }, (_, i) => [`org/example/C${i}.class`, Buffer.from(`class ${i} `.repeat(50 + (i % 7)))]));
}

test('compresses one entry at a time (the warehouse writer JAR of ~70,000 classes once held a zlib stream per entry, over 14 GB)', async () => {
  // The zlib module object yazl calls (a namespace import's properties cannot be replaced).
  const zlib = require('zlib') as typeof import('zlib');
  let live = 0;
  let peak = 0;
  const { deflateRaw } = zlib;
  zlib.deflateRaw = ((buf: Buffer, opts: object, cb: (err: Error | null, out: Buffer) => void) => {
    live++;
    peak = Math.max(peak, live);
    return deflateRaw(buf, opts, (err, out) => { live--; cb(err, out); });
  }) as typeof zlib.deflateRaw;
  // Streaming deflates: a stream counts from its first chunk to its end.
  const proto = zlib.DeflateRaw.prototype as unknown as { _transform: (this: any, ...a: unknown[]) => unknown };
  const transform = proto._transform;
  proto._transform = function (this: any, ...a: unknown[]) {
    if (!this.counted) {
      this.counted = true;
      live++;
      peak = Math.max(peak, live);
      this.once('end', () => { live--; });
    }
    return transform.apply(this, a);
  };
  try {
    const input = entries(2000);
    const zip = await buildZip(input);
    expect(peak).toBeLessThanOrEqual(1);
    const back = extractZip(zip);
    expect(back.size).toBe(2000);
    for (const [name, data] of input) expect(back.get(name)!.equals(data)).toBe(true);
  } finally {
    zlib.deflateRaw = deflateRaw;
    proto._transform = transform;
  }
});

test('a merged JAR is still deterministic and leads with its manifest', async () => {
  const a = await buildZip(entries(300));
  const b = await buildZip(entries(10));
  const one = await mergeJars([{ name: 'a', body: a }, { name: 'b', body: b }]);
  const two = await mergeJars([{ name: 'a', body: a }, { name: 'b', body: b }]);
  expect(one.jar.equals(two.jar)).toBe(true);
  expect([...extractZip(one.jar).keys()][0]).toBe('META-INF/MANIFEST.MF');
  expect(one.entryCount).toBe(301);
});
