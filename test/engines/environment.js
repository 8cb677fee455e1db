// The engine tests' jest environment: after a test file's own hooks, no engine JVM it started may still run. A leftover one
// (an afterAll that threw before reaching every stop()) is killed, so jest exits instead of hanging CI, and fails the file.
// test/engines/harness/jvm.ts registers the check on the file's global.
const { TestEnvironment } = require('jest-environment-node');

class EngineEnvironment extends TestEnvironment {
  async teardown() {
    const killLeftovers = this.global.__killLeftoverEngineJvms;
    await super.teardown();
    const left = typeof killLeftovers === 'function' ? killLeftovers() : [];
    if (left.length > 0) throw new Error(`engine JVMs left running after this file, now killed: ${left.join('; ')}`);
  }
}

module.exports = EngineEnvironment;
