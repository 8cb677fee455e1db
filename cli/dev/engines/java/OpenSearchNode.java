// One OpenSearch node from the published Maven Central jars (run as a single-file source program on that classpath): the
// server's Node with the distribution's modules given as classpath plugins, HTTP on 127.0.0.1, data under the home directory.
// Usage: OpenSearchNode <home> <httpPort> <transportPort> <pluginClass>...
// Prints "OPENSEARCH_NODE_STARTED <httpPort>" when the node has started; SIGTERM closes the node and exits 0.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.opensearch.Version;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.plugins.PluginInfo;

public class OpenSearchNode {
  /** A Node whose plugins come from the classpath instead of the distribution's modules/ and plugins/ directories. */
  static final class ClasspathNode extends Node {
    ClasspathNode(Environment environment, Collection<PluginInfo> plugins) {
      super(environment, plugins, true);
    }
  }

  public static void main(String[] args) throws Exception {
    Path home = Path.of(args[0]).toAbsolutePath();
    String httpPort = args[1];
    String transportPort = args[2];
    List<PluginInfo> plugins = new ArrayList<>();
    for (int i = 3; i < args.length; i++) {
      Class<?> type = Class.forName(args[i]);
      if (!Plugin.class.isAssignableFrom(type)) throw new IllegalArgumentException(args[i] + " is not an OpenSearch plugin");
      // The same descriptor the distribution reads from plugin-descriptor.properties, for a plugin already on the classpath.
      plugins.add(new PluginInfo(type.getName(), "classpath plugin", "NA", Version.CURRENT,
          Integer.toString(Runtime.version().feature()), type.getName(), List.of(), false));
    }
    for (String dir : List.of("config", "data", "logs", "modules", "plugins")) Files.createDirectories(home.resolve(dir));

    Settings settings = Settings.builder()
        .put("path.home", home.toString())
        .put("path.data", home.resolve("data").toString())
        .put("path.logs", home.resolve("logs").toString())
        .put("cluster.name", "cdk-agent-data-stack-engines")
        .put("node.name", "node-1")
        .put("discovery.type", "single-node")
        .put("network.host", "127.0.0.1")
        .put("http.port", httpPort)
        .put("transport.port", transportPort)
        // A shared build machine's disk may be fuller than the watermarks allow; a full disk would block shard allocation.
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .put("bootstrap.memory_lock", false)
        .put("node.processors", Math.min(2, Runtime.getRuntime().availableProcessors()))
        .put("action.auto_create_index", true)
        .build();
    Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> "node-1");
    LogConfigurator.registerErrorListener();
    // Console logging (the harness sends stdout to the node's log file); WARN and above keeps a 2-core machine's log small.
    LogConfigurator.configureWithoutConfig(Settings.builder().put(environment.settings()).put("logger.level", "WARN").build());

    Node node = new ClasspathNode(environment, plugins);
    // The node's own threads are daemons: like the distribution's bootstrap, keep one non-daemon thread until shutdown.
    CountDownLatch stopped = new CountDownLatch(1);
    Thread keepAlive = new Thread(() -> {
      try {
        stopped.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "opensearch-keep-alive");
    keepAlive.setDaemon(false);
    keepAlive.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
        if (!node.awaitClose(20, TimeUnit.SECONDS)) System.out.println("OPENSEARCH_NODE_CLOSE_TIMEOUT");
        System.out.println("OPENSEARCH_NODE_STOPPED");
      } catch (Exception e) {
        e.printStackTrace();
      } finally {
        stopped.countDown();
      }
    }, "opensearch-node-close"));
    try {
      node.start();
    } catch (Exception e) {
      e.printStackTrace();
      System.exit(1);
    }
    System.out.println("OPENSEARCH_NODE_STARTED " + httpPort);
  }
}
