/** Jest for the real engines (test/engines): one worker, long timeouts; `npm run test:engines`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/engines'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 600000,
  maxWorkers: 1,
  setupFiles: ['<rootDir>/test/helpers/env.js'],
};
