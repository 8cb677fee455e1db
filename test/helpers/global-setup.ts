// Jest global setup: the handler bundles (bundles/) as `npm run build` makes them, rebuilt only when a source changed,
// once per run rather than in each test file that synthesizes with bundling.
import * as path from 'path';
import { bundleAll } from '../../scripts/bundle-handlers';

export default function globalSetup(): void {
  bundleAll(path.join(__dirname, '..', '..'));
}
