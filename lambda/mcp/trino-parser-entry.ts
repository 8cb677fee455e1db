// Second entry of the MCP bundle: dt-sql-parser's Trino grammar (about 0.9 MB), shipped as `trino-parser.js` beside
// `index.js` and loaded only when a warehouse view's SQL mode is used, so the server's own bundle stays small.
module.exports = {
  TrinoSQL: require('dt-sql-parser/dist/parser/trino').TrinoSQL,
  TrinoSqlParser: require('dt-sql-parser/dist/lib/trino/TrinoSqlParser').TrinoSqlParser,
};
