// The engine harness fails loudly, naming what is missing, when Java, Maven or Maven Central cannot serve it.
import { checkJava, EngineUnavailableError, javaCommand, resolveDependencies } from './harness';
import { mavenCoordinates } from '../../cli/dev/engines/plugin';

test('a missing JDK is named with the fix', () => {
  expect(() => checkJava('/nonexistent-jdk')).toThrow(EngineUnavailableError);
  expect(() => checkJava('/nonexistent-jdk')).toThrow(/Java is not available .*Java 17 JDK: apt-get install openjdk-17-jdk-headless/s);
  expect(javaCommand()).toMatch(/java$/);
});

test('a missing Maven is named with the fix', () => {
  const path = process.env.PATH;
  process.env.PATH = '/nonexistent-bin';
  try {
    expect(() => resolveDependencies({ pom: 'kafka.pom.xml', properties: { 'kafka.version': '0.0.0-not-cached' } }))
      .toThrow(/Maven is not available .*apt-get install maven/s);
  } finally {
    process.env.PATH = path;
  }
});

test('a version Maven Central does not have is named, with the repository asked', () => {
  expect(() => resolveDependencies({ pom: 'kafka.pom.xml', properties: { 'kafka.version': '3.7.99-does-not-exist' } }))
    .toThrow(/Maven could not resolve kafka\.pom\.xml \(\{"kafka\.version":"3\.7\.99-does-not-exist"\}\) from Maven Central/);
}, 300_000);

test('Maven Central URLs the constructs declare map to coordinates', () => {
  expect(mavenCoordinates('https://repo1.maven.org/maven2/io/debezium/debezium-connector-postgres/3.1.2.Final/debezium-connector-postgres-3.1.2.Final-plugin.tar.gz'))
    .toEqual({ groupId: 'io.debezium', artifactId: 'debezium-connector-postgres', version: '3.1.2.Final', classifier: 'plugin', type: 'tar.gz' });
  expect(() => mavenCoordinates('https://github.com/aws-samples/msk-config-providers/releases/download/r0.4.0/x.jar')).toThrow(/not a Maven Central URL/);
});
