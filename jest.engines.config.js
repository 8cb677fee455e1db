/** Engine tests (real Kafka, Kafka Connect, Debezium, Flink): `npm run test:engines`. Slow and serial; they fail, never skip, when an engine's tools are missing. */
const base = require('./jest.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/engines'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 15 * 60 * 1000,
  maxWorkers: 1,
  testEnvironment: '<rootDir>/test/engines/environment.js',
};
