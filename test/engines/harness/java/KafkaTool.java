// Kafka client for the engine harness (run as a single-file source program on the Kafka classpath): creates and describes topics,
// and streams every record of the topics matching a pattern to stdout as JSON lines (key and value base64, as the Lambda MSK event carries them).
import java.time.Duration;
import java.util.*;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class KafkaTool {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[1];
    switch (args[0]) {
      case "create-topics": createTopics(bootstrap, Arrays.copyOfRange(args, 2, args.length)); break;
      case "describe-topics": describeTopics(bootstrap, Arrays.copyOfRange(args, 2, args.length)); break;
      case "consume": consume(bootstrap, args[2]); break;
      default: throw new IllegalArgumentException("unknown command " + args[0]);
    }
  }

  // Each argument: name|partitions|replicationFactor|key=value,key=value
  static void createTopics(String bootstrap, String[] specs) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      List<NewTopic> topics = new ArrayList<>();
      for (String spec : specs) {
        String[] p = spec.split("\\|", -1);
        Map<String, String> configs = new HashMap<>();
        for (String kv : p[3].split(",")) {
          if (kv.isEmpty()) continue;
          int eq = kv.indexOf('=');
          configs.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        topics.add(new NewTopic(p[0], Integer.parseInt(p[1]), Short.parseShort(p[2])).configs(configs));
      }
      admin.createTopics(topics).all().get();
    }
  }

  // Prints one JSON line per topic: name, partitions and the explicitly set (non-default) configs.
  static void describeTopics(String bootstrap, String[] names) throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Map<String, TopicDescription> descriptions = admin.describeTopics(Arrays.asList(names)).allTopicNames().get();
      List<ConfigResource> resources = new ArrayList<>();
      for (String n : names) resources.add(new ConfigResource(ConfigResource.Type.TOPIC, n));
      Map<ConfigResource, Config> configs = admin.describeConfigs(resources).all().get();
      for (String n : names) {
        StringBuilder sb = new StringBuilder("{\"topic\":").append(q(n)).append(",\"partitions\":").append(descriptions.get(n).partitions().size()).append(",\"configs\":{");
        boolean first = true;
        for (ConfigEntry e : configs.get(new ConfigResource(ConfigResource.Type.TOPIC, n)).entries()) {
          if (e.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG) continue;
          if (!first) sb.append(',');
          sb.append(q(e.name())).append(':').append(q(e.value()));
          first = false;
        }
        System.out.println(sb.append("}}"));
      }
    }
  }

  static void consume(String bootstrap, String pattern) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, "engine-harness-reader-" + UUID.randomUUID());
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.METADATA_MAX_AGE_CONFIG, "1000");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    Base64.Encoder b64 = Base64.getEncoder();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      consumer.subscribe(Pattern.compile(pattern));
      System.out.println("{\"ready\":true}");
      System.out.flush();
      for (;;) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          System.out.println("{\"topic\":" + q(r.topic()) + ",\"partition\":" + r.partition() + ",\"offset\":" + r.offset()
            + ",\"timestamp\":" + r.timestamp()
            + ",\"key\":" + (r.key() == null ? "null" : q(b64.encodeToString(r.key())))
            + ",\"value\":" + (r.value() == null ? "null" : q(b64.encodeToString(r.value()))) + "}");
        }
        System.out.flush();
      }
    }
  }

  static String q(String s) {
    StringBuilder sb = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') sb.append('\\').append(c);
      else if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
      else sb.append(c);
    }
    return sb.append('"').toString();
  }
}
