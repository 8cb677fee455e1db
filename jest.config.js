/** Jest runs every test under test/ except the engine tests (test/engines, see jest.engines.config.js); ts-jest transpiles only (tsc --noEmit type-checks in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Real engines run with `npm run test:engines` (jest.engines.config.js).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/engines/'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 120000,
  maxWorkers: 2,
  setupFiles: ['<rootDir>/test/helpers/env.js'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  snapshotSerializers: ['<rootDir>/test/helpers/asset-hash-serializer.js'],
};
