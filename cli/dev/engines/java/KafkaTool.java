// Kafka client for the engine harness (run as a single-file source program on the Kafka classpath): creates and describes topics,
// streams every record of the topics matching a pattern to stdout as JSON lines (key and value base64, as the Lambda MSK event carries them),
// and polls as a Lambda MSK event source does (`event-source`): batches on stdout, offsets committed only when stdin says the batch succeeded.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.*;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public class KafkaTool {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[1];
    switch (args[0]) {
      case "create-topics": createTopics(bootstrap, Arrays.copyOfRange(args, 2, args.length)); break;
      case "describe-topics": describeTopics(bootstrap, Arrays.copyOfRange(args, 2, args.length)); break;
      case "consume": consume(bootstrap, args[2]); break;
      case "event-source": eventSource(bootstrap, args[2], args[3].split(","), Integer.parseInt(args[4]), Long.parseLong(args[5]), args[6]); break;
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

  /** The synchronous-invocation payload limit a Lambda MSK batch stays under (6 MB), with room for the envelope. */
  static final int MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 64 * 1024;

  /**
   * A Lambda MSK event source mapping's poller for one consumer group: reads the topics' partitions from the group's committed
   * offsets (else from `startingPosition`), gathers a batch of up to `batchSize` records (or the payload limit) for at most
   * `windowMs` after its first record, prints it as one JSON line `{"batch":[...]}` and waits for one stdin line:
   * `commit` commits the batch's offsets, `retry` rewinds to the batch's first offsets so the same records come again.
   * A process killed before `commit` leaves the offsets where they were: the batch is delivered again on restart.
   */
  static void eventSource(String bootstrap, String groupId, String[] topics, int batchSize, long windowMs, String startingPosition) throws Exception {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, startingPosition.equals("LATEST") ? "latest" : "earliest");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, String.valueOf(batchSize));
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    Base64.Encoder b64 = Base64.getEncoder();
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      // Assigned, not subscribed: a restarted poller takes its partitions at once (no group rebalance wait for the killed one);
      // the group's committed offsets are what carries over, as with the event source's consumer group.
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        List<PartitionInfo> infos = consumer.partitionsFor(t, Duration.ofSeconds(30));
        if (infos == null || infos.isEmpty()) throw new IllegalStateException("topic " + t + " does not exist");
        for (PartitionInfo p : infos) partitions.add(new TopicPartition(p.topic(), p.partition()));
      }
      consumer.assign(partitions);
      System.out.println("{\"ready\":true,\"partitions\":" + partitions.size() + "}");
      System.out.flush();
      for (;;) {
        List<String> lines = new ArrayList<>();
        Map<TopicPartition, Long> first = new HashMap<>();
        Map<TopicPartition, Long> last = new HashMap<>();
        long deadline = Long.MAX_VALUE;
        int bytes = 0;
        boolean full = false;
        while (!full) {
          long now = System.currentTimeMillis();
          if (now >= deadline) break;
          ConsumerRecords<byte[], byte[]> polled = consumer.poll(Duration.ofMillis(Math.max(1, Math.min(100, deadline - now))));
          Map<TopicPartition, Long> rewind = new HashMap<>();
          for (ConsumerRecord<byte[], byte[]> r : polled) {
            TopicPartition tp = new TopicPartition(r.topic(), r.partition());
            if (full || rewind.containsKey(tp)) {
              rewind.putIfAbsent(tp, r.offset());
              continue;
            }
            String line = recordJson(r, b64);
            if (lines.size() >= batchSize || (bytes + line.length() > MAX_PAYLOAD_BYTES && !lines.isEmpty())) {
              full = true;
              rewind.putIfAbsent(tp, r.offset());
              continue;
            }
            if (lines.isEmpty()) deadline = System.currentTimeMillis() + windowMs;
            lines.add(line);
            bytes += line.length();
            first.putIfAbsent(tp, r.offset());
            last.put(tp, r.offset());
          }
          // Records polled beyond the batch are read again by the next batch.
          for (Map.Entry<TopicPartition, Long> e : rewind.entrySet()) consumer.seek(e.getKey(), e.getValue());
          if (lines.size() >= batchSize) full = true;
        }
        System.out.println("{\"batch\":[" + String.join(",", lines) + "]}");
        System.out.flush();
        String answer = stdin.readLine();
        if (answer == null) return;
        if (answer.equals("commit")) {
          Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
          for (Map.Entry<TopicPartition, Long> e : last.entrySet()) offsets.put(e.getKey(), new OffsetAndMetadata(e.getValue() + 1));
          consumer.commitSync(offsets);
          System.out.println("{\"committed\":" + lines.size() + "}");
        } else {
          for (Map.Entry<TopicPartition, Long> e : first.entrySet()) consumer.seek(e.getKey(), e.getValue());
          System.out.println("{\"rewound\":" + lines.size() + "}");
        }
        System.out.flush();
      }
    }
  }

  /** One record as the Lambda MSK event carries it: base64 key and value, headers as arrays of byte values. */
  static String recordJson(ConsumerRecord<byte[], byte[]> r, Base64.Encoder b64) {
    StringBuilder headers = new StringBuilder("[");
    for (Header h : r.headers()) {
      if (headers.length() > 1) headers.append(',');
      headers.append('{').append(q(h.key())).append(":[");
      byte[] v = h.value() == null ? new byte[0] : h.value();
      for (int i = 0; i < v.length; i++) {
        if (i > 0) headers.append(',');
        headers.append(v[i]);
      }
      headers.append("]}");
    }
    headers.append(']');
    return "{\"topic\":" + q(r.topic()) + ",\"partition\":" + r.partition() + ",\"offset\":" + r.offset()
      + ",\"timestamp\":" + r.timestamp() + ",\"timestampType\":" + q(r.timestampType().name())
      + ",\"key\":" + (r.key() == null ? "null" : q(b64.encodeToString(r.key())))
      + ",\"value\":" + (r.value() == null ? "null" : q(b64.encodeToString(r.value())))
      + ",\"headers\":" + headers + "}";
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
