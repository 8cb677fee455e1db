// `npm run bundle` (run by `npm run build`, `prepack`, `prepare` and the jest setup): builds every handler's Lambda bundle
// that is missing or stale into bundles/, and the Flink SQL grammar the constructs load at synth.
import * as fs from 'fs';
import * as path from 'path';
import { ensureHandlerBundles, packagedHandlers } from '../constructs/common/handler-bundle';
import { bundleFlinkParser, SHIPPED_FLINK_PARSER } from '../constructs/processing/private/flink-parser';

export function bundleAll(root: string, log: (line: string) => void = () => undefined): string[] {
  const t0 = Date.now();
  const built = ensureHandlerBundles(root, packagedHandlers(root));
  // The grammar changes only with dt-sql-parser's version, recorded beside it.
  const parser = path.join(root, 'bundles', SHIPPED_FLINK_PARSER);
  const version = `dt-sql-parser ${JSON.parse(fs.readFileSync(require.resolve('dt-sql-parser/package.json'), 'utf8')).version}\n`;
  const versionFile = `${parser}.version`;
  if (!fs.existsSync(parser) || !fs.existsSync(versionFile) || fs.readFileSync(versionFile, 'utf8') !== version) {
    fs.mkdirSync(path.dirname(parser), { recursive: true });
    fs.writeFileSync(`${parser}.${process.pid}.tmp`, bundleFlinkParser());
    fs.renameSync(`${parser}.${process.pid}.tmp`, parser);
    fs.writeFileSync(versionFile, version);
    built.push(SHIPPED_FLINK_PARSER);
  }
  log(`bundles: ${built.length > 0 ? `built ${built.join(', ')}` : 'all fresh'} (${Date.now() - t0} ms)`);
  return built;
}

if (require.main === module) bundleAll(path.join(__dirname, '..'), line => process.stderr.write(`${line}\n`));
