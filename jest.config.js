/** Jest runs every test under test/; ts-jest transpiles only (tsc --noEmit type-checks in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/test/engines/'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 120000,
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/helpers/env.js'],
  snapshotSerializers: ['<rootDir>/test/helpers/asset-hash-serializer.js'],
};
