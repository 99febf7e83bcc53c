package dev.featurebeam.pipelines;

import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import redis.clients.jedis.Jedis;

/**
 * A small spec and events whose online values at a few instants are worked out by hand in the
 * tests of get and serve; {@link #load} stores them with {@code batch --onlineStore} as of
 * 2025-01-10 (end_of_day: the states' watermark is 2025-01-11T00:00Z).
 */
public final class OnlineFixture {
  public static final String SPEC = String.join("\n",
      "feature_set: pit",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "dedup_key: event_id",
      "source_schema:",
      "  event_id: {type: string, required: true}",
      "  user_id: {type: string, required: true}",
      "  event_type: {type: string}",
      "  amount: {type: double, min: 0}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n_1h, agg: count, window: 1h}",
      "  - {name: amt_sum_2d, agg: sum, field: amount, window: 2d}",
      "  - {name: last_type, agg: last, field: event_type}",
      "  - {name: dsl, agg: days_since_last}",
      "  - {name: active_30m, agg: exists, window: 30m}",
      "  - {name: last_seen, agg: max, field: ts, window: 7d}",
      "");

  public static final String EVENTS = String.join("\n",
      "event_id,user_id,event_type,amount,ts",
      "e1,u1,purchase,10.0,2025-01-10T11:59:59.999Z",
      "e2,u1,view,,2025-01-10T23:40:00Z",
      "e3,u1,purchase,5.0,2025-01-09T00:00:00Z",
      "e3,u1,purchase,5.0,2025-01-09T00:00:00Z",
      "e4,u2,view,,2025-01-10T11:30:00Z",
      "e5,a/b c,view,,2025-01-10T01:00:00Z",
      "");

  private OnlineFixture() {}

  public static FeatureSpec spec() {
    return SpecParser.parse(SPEC);
  }

  /** Empties database {@code db} of the machine's Redis. */
  public static void empty(int db) {
    try (Jedis j = new Jedis("127.0.0.1", 6379)) {
      j.select(db);
      j.flushDB();
    }
  }

  /** Writes the spec into {@code dir} and runs batch --onlineStore=STORE; returns the spec file. */
  public static Path load(Path dir, String store) throws IOException {
    Path spec = dir.resolve("spec.yaml");
    Files.writeString(spec, SPEC);
    Files.writeString(dir.resolve("events.csv"), EVENTS);
    CliRun batch = CliRun.of("batch", "--spec=" + spec,
        "--source=file:" + dir.resolve("events.csv"), "--out=" + dir.resolve("out"),
        "--asOfDate=2025-01-10", "--onlineStore=" + store, "--runner=DirectRunner",
        "--progress=false");
    if (batch.exit() != 0) {
      throw new IllegalStateException("the fixture's batch failed: " + batch.err());
    }
    return spec;
  }
}
