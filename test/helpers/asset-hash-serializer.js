// Jest snapshot serializer: replaces CDK asset hashes so snapshots change only when the template does.
const HASH = /[0-9a-f]{64}(\.zip|\.json)?/g;
module.exports = {
  test: (val) => typeof val === 'string' && /[0-9a-f]{64}/.test(val),
  print: (val) => JSON.stringify(val.replace(HASH, (_m, ext) => `[ASSET-HASH]${ext ?? ''}`)),
};
