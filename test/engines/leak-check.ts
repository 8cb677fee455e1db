// After each engine test file: no engine JVM may outlive it. A leftover one is killed (so jest can exit instead of
// hanging CI) and fails the file, naming it: an afterAll that threw before reaching every stop() is a test bug.
import { killLeftoverJvms } from './harness/jvm';

afterAll(() => {
  const left = killLeftoverJvms();
  if (left.length > 0) throw new Error(`engine JVMs left running after this file, now killed: ${left.join('; ')}`);
});
