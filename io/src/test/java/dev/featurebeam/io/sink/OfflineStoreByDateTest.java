package dev.featurebeam.io.sink;

import static dev.featurebeam.io.sink.SinkFixtures.D1;
import static dev.featurebeam.io.sink.SinkFixtures.D2;
import static dev.featurebeam.io.sink.SinkFixtures.SPEC;
import static dev.featurebeam.io.sink.SinkFixtures.row;
import static dev.featurebeam.io.sink.SinkFixtures.snapshot;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.aMapWithSize;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.model.PartitionOutcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.windowing.IntervalWindow;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TimestampedValue;
import org.joda.time.Duration;
import org.joda.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OfflineStoreWrite.Method#DATE_BY_DATE} writes what {@link
 * OfflineStoreWrite.Method#ALL_AT_ONCE} writes, byte for byte, on bounded input and on a stream;
 * on a stream each date comes out in its own window, once the watermark has passed its instant.
 */
class OfflineStoreByDateTest {
  private static final long D3 = D2 + 1;
  private static final long D4 = D2 + 2;
  private static final List<Long> DAYS = List.of(D1, D2, D3, D4);

  @TempDir Path tmp;

  /**
   * D1: 11 rows, one over the check's limit (rejected); D2: 5 rows; D3: none (an empty partition);
   * D4: 2 rows and an invalid value (rejected). The check names the previous date's row count.
   */
  private static List<Row> rows() {
    List<Row> rows = new ArrayList<>();
    for (String u : List.of("u01", "u02", "u03", "u04", "u05", "u06", "u07", "u08", "u09", "u10")) {
      rows.add(row(u, D1));
    }
    rows.add(row("u77", D1, 1L, 111.5, true, 0, "x", null));
    for (String u : List.of("u02", "u04", "u11", "u12", "u13")) {
      rows.add(row(u, D2));
    }
    rows.add(row("u20", D4));
    rows.add(row("u21", D4));
    return rows;
  }

  private static final InvalidValue INVALID =
      InvalidValue.of(D4, "u21", "txn_count_7d", "int64 sum overflows");

  private static OfflineStoreWrite store(Path root, OfflineStoreWrite.Method method) {
    return OfflineStoreWrite.to(root.toString(), SPEC)
        .forAsOfEpochDays(DAYS)
        .withShards(3)
        .withLineage("{\"source\":\"kafka://127.0.0.1:9092/events\"}")
        .withToolVersion("0.1.0-test")
        .withChecks(new OfflineStoreWriteTest.AvgAtMostHundred())
        .withMethod(method);
  }

  /** The bounded write, all dates at once, as the reference. */
  private Map<String, byte[]> allAtOnce() {
    Path root = tmp.resolve("all-at-once");
    Pipeline p = SinkFixtures.newPipeline(2);
    PCollection<InvalidValue> invalid = p.apply("Invalid", Create.of(INVALID));
    p.apply("Rows", Create.of(rows()).withRowSchema(SPEC.outputSchema()))
        .apply(store(root, OfflineStoreWrite.Method.ALL_AT_ONCE).withInvalidValues(invalid));
    p.run().waitUntilFinish();
    Map<String, byte[]> written = snapshot(root);
    assertThat(written, not(aMapWithSize(0)));
    return written;
  }

  @Test
  void onBoundedInputDateByDateWritesTheSameBytes() {
    Map<String, byte[]> expected = allAtOnce();
    Path root = tmp.resolve("date-by-date");
    Pipeline p = SinkFixtures.newPipeline(2);
    PCollection<InvalidValue> invalid = p.apply("Invalid", Create.of(INVALID));
    PCollection<PartitionOutcome> outcomes =
        p.apply("Rows", Create.of(rows()).withRowSchema(SPEC.outputSchema()))
            .apply(store(root, OfflineStoreWrite.Method.DATE_BY_DATE).withInvalidValues(invalid));
    PAssert.that(SinkFixtures.withoutSha(outcomes)).containsInAnyOrder(
        PartitionOutcome.of(D1, false, 11, OfflineStore.partitionDir(root, SPEC, D1).toString(),
            List.of("check avg at most 100 failed on as_of_date=2025-01-05:"
                + " 11 rows, 1 over 100; previous date: none")),
        PartitionOutcome.of(D2, true, 5, OfflineStore.partitionDir(root, SPEC, D2).toString(),
            List.of()),
        PartitionOutcome.of(D3, true, 0, OfflineStore.partitionDir(root, SPEC, D3).toString(),
            List.of()),
        PartitionOutcome.of(D4, false, 2, OfflineStore.partitionDir(root, SPEC, D4).toString(),
            List.of("check values_representable failed on as_of_date=2025-01-08: 1 value cannot"
                + " be stored in the partition's columns, e.g. u21 txn_count_7d: int64 sum"
                + " overflows")));
    p.run().waitUntilFinish();
    assertSameFiles(snapshot(root), expected);
  }

  /**
   * Rows come as the feature computation emits them on a stream: each date's just before its
   * instant, then the watermark passes it; one jump passes D3 and D4 at once. Each date's outcome
   * is alone in its own window's on-time pane, and the store ends as the bounded write leaves it.
   */
  @Test
  void onAStreamEachDateIsPublishedInItsOwnWindow() {
    Map<String, byte[]> expected = allAtOnce();
    Path root = tmp.resolve("stream");
    TestStream.Builder<Row> events =
        TestStream.create(RowCoder.of(SPEC.outputSchema())).advanceWatermarkTo(new Instant(0));
    List<Row> rows = rows();
    for (long day : List.of(D1, D2, D4)) {
      List<TimestampedValue<Row>> ofDay = new ArrayList<>();
      for (Row r : rows) {
        if (r.getLogicalTypeValue(1, java.time.LocalDate.class).toEpochDay() == day) {
          ofDay.add(TimestampedValue.of(r, instantOf(day).minus(Duration.millis(1))));
        }
      }
      @SuppressWarnings("unchecked")
      TimestampedValue<Row>[] values = ofDay.toArray(new TimestampedValue[0]);
      events = events.addElements(values[0], Arrays.copyOfRange(values, 1, values.length));
      if (day != D4) {
        events = events.advanceWatermarkTo(instantOf(day).plus(Duration.standardSeconds(1)));
      }
    }
    Pipeline p = SinkFixtures.newPipeline(2);
    PCollection<InvalidValue> invalid =
        p.apply("Invalid", TestStream.create(InvalidValue.InvalidValueCoder.of())
            .addElements(TimestampedValue.of(INVALID, instantOf(D4).minus(Duration.millis(1))))
            .advanceWatermarkToInfinity());
    PCollection<PartitionOutcome> outcomes =
        p.apply("Rows", events.advanceWatermarkToInfinity())
            .setRowSchema(SPEC.outputSchema())
            .apply(store(root, OfflineStoreWrite.Method.AUTO).withInvalidValues(invalid));
    for (long day : DAYS) {
      IntervalWindow window = new IntervalWindow(instantOf(day).minus(Duration.standardDays(1)),
          instantOf(day));
      PAssert.that(outcomes).inOnTimePane(window).satisfies(in -> {
        List<Long> dates = new ArrayList<>();
        in.forEach(o -> dates.add(o.asOfEpochDay()));
        assertThat(dates, equalTo(List.of(day)));
        return null;
      });
    }
    p.run().waitUntilFinish();
    assertSameFiles(snapshot(root), expected);
    assertThat("the run's staging is left for the driver, its dates' folders gone",
        Files.exists(OfflineStore.versionDir(root, SPEC).resolve("_staging")), is(true));
  }

  /** The as-of instant of an end-of-day date: the next day's midnight, UTC. */
  private static Instant instantOf(long day) {
    return new Instant(SPEC.asOf().instantOfEpochDay(day));
  }

  /** Same published files, same bytes; staging folders aside. */
  private static void assertSameFiles(Map<String, byte[]> actual, Map<String, byte[]> expected) {
    assertThat(hex(published(actual)), equalTo(hex(published(expected))));
  }

  private static Map<String, byte[]> published(Map<String, byte[]> files) {
    Map<String, byte[]> kept = new TreeMap<>();
    files.forEach((k, v) -> {
      if (!k.contains("_staging")) {
        kept.put(k, v);
      }
    });
    return kept;
  }

  private static Map<String, String> hex(Map<String, byte[]> files) {
    Map<String, String> out = new TreeMap<>();
    files.forEach((k, v) -> out.put(k, OfflineStore.sha256(v)));
    return out;
  }
}
