package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.transforms.Counters;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricKey;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.StringSetResult;
import org.apache.flink.metrics.SimpleCounter;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.junit.jupiter.api.Test;

/** The progress line from known metric results, and the Flink reporter that supplies them live. */
class ProgressTest {
  /** Metric results as a runner reports them: {@code namespace, name, step, value} rows. */
  static MetricQueryResults results(Object... rows) {
    List<MetricResult<Long>> counters = new ArrayList<>();
    for (int i = 0; i < rows.length; i += 4) {
      counters.add(MetricResult.attempted(
          MetricKey.create((String) rows[i + 2], MetricName.named((String) rows[i], (String) rows[i + 1])),
          ((Number) rows[i + 3]).longValue()));
    }
    return MetricQueryResults.create(counters, List.<MetricResult<DistributionResult>>of(),
        List.<MetricResult<GaugeResult>>of(), List.<MetricResult<StringSetResult>>of());
  }

  private static String line(Object... rows) {
    ProgressSink sink = new ProgressSink();
    sink.writeMetrics(results(rows));
    return Progress.line(12.34, sink, 29, 29);
  }

  @Test
  void theLineFollowsTheStagesThroughToPublishing() {
    String ns = Counters.NAMESPACE;
    String store = StoreCounters.NAMESPACE;
    assertThat(line(), equalTo("[  12.3 s] reading        read 0  valid 0  tiles 0  rows 0"
        + "  staged 0/29  published 0/29"));
    // Counters summed over the steps (and parallel instances) that report them.
    assertThat(line(ns, Counters.READ, "Validate", 60_000, ns, Counters.READ, "Validate2", 40_500),
        containsString("] de-duplicating read 100,500  valid 0"));
    assertThat(line(ns, Counters.READ, "v", 100_500, ns, Counters.VALID, "k", 99_800),
        containsString("] aggregating    read 100,500  valid 99,800  tiles 0"));
    assertThat(line(ns, Counters.READ, "v", 100_500, ns, Counters.VALID, "k", 99_800,
            ns, Counters.TILES, "r", 33_586, ns, Counters.FEATURE_ROWS, "r", 57_477),
        containsString("] writing        read 100,500  valid 99,800  tiles 33,586  rows 57,477  staged 0/29"));
    assertThat(line(ns, Counters.FEATURE_ROWS, "r", 57_477, store, StoreCounters.FILES_STAGED, "w", 29),
        containsString("] publishing     "));
    assertThat(line(store, StoreCounters.FILES_STAGED, "w", 29,
            store, StoreCounters.PARTITIONS_PUBLISHED, "p", 12),
        endsWith("staged 29/29  published 12/29"));
    assertThat(line(store, StoreCounters.FILES_STAGED, "w", 29,
            store, StoreCounters.PARTITIONS_PUBLISHED, "p", 27,
            store, StoreCounters.PARTITIONS_REJECTED, "p", 2),
        allOf("] finishing      ", "published 27/29  rejected 2"));
    // Other namespaces (a quarantine reason, a library's counters) do not count.
    assertThat(line(Counters.QUARANTINE_NAMESPACE, Counters.READ, "v", 5, "other", "read", "x", 7),
        containsString("read 0  valid 0"));
  }

  @Test
  void theStreamsLineShowsTheRateLateRecordsAndTheLastPublishedDate() {
    String ns = Counters.NAMESPACE;
    String store = StoreCounters.NAMESPACE;
    long[] last = {-1};
    StreamProgress stream = new StreamProgress(11, () -> last[0]);
    ProgressSink sink = new ProgressSink();
    sink.writeMetrics(results(ns, Counters.READ, "v", 20_000, ns, Counters.LATE, "l", 500));
    assertThat(stream.format(10.0, sink), equalTo("[  10.0 s] streaming  read 20,500 (2,050/s)"
        + "  late 500  quarantined 0  published 0/11"));
    last[0] = java.time.LocalDate.parse("2025-01-12").toEpochDay();
    sink = new ProgressSink();
    sink.writeMetrics(results(ns, Counters.READ, "v", 60_000, ns, Counters.LATE, "l", 500,
        ns, Counters.QUARANTINED, "q", 620, store, StoreCounters.PARTITIONS_PUBLISHED, "p", 3));
    // The rate is over the time since the line before: 40,000 records in 20 s.
    assertThat(stream.format(30.0, sink), equalTo("[  30.0 s] streaming  read 60,500 (2,000/s)"
        + "  late 500  quarantined 620  published 3/11 (through 2025-01-12)"));
    assertThat(new StreamProgress(0, () -> -1).format(1.0, sink), containsString("published 3  "
        .trim()));
  }

  /** The least partition watermark the source reported, and its lag behind the clock. */
  @Test
  void theStreamsLineShowsTheWatermarkAndItsLag() {
    long wm0 = java.time.Instant.parse("2025-01-12T10:00:05Z").toEpochMilli();
    long now = wm0 + 3 * 3_600_000L + 7 * 60_000L + 12_000L;
    StreamProgress stream = new StreamProgress(11, () -> -1, () -> now);
    ProgressSink sink = new ProgressSink();
    org.apache.beam.sdk.metrics.MetricKey p0 = org.apache.beam.sdk.metrics.MetricKey.create("s",
        org.apache.beam.sdk.metrics.MetricName.named(Counters.NAMESPACE, "watermark_p0"));
    org.apache.beam.sdk.metrics.MetricKey p1 = org.apache.beam.sdk.metrics.MetricKey.create("s",
        org.apache.beam.sdk.metrics.MetricName.named(Counters.NAMESPACE, "watermark_p1"));
    sink.writeMetrics(MetricQueryResults.create(java.util.List.of(), java.util.List.of(),
        java.util.List.of(
            org.apache.beam.sdk.metrics.MetricResult.attempted(p0,
                org.apache.beam.sdk.metrics.GaugeResult.create(wm0 + 60_000L, new org.joda.time.Instant(now))),
            org.apache.beam.sdk.metrics.MetricResult.attempted(p1,
                org.apache.beam.sdk.metrics.GaugeResult.create(wm0, new org.joda.time.Instant(now)))),
        java.util.List.of()));
    assertThat(stream.format(10.0, sink), containsString(
        "read 0 (0/s)  watermark 2025-01-12T10:00:05Z (lag 3h 7m)  late 0"));
    assertThat(StreamProgress.lag(850), equalTo("850ms"));
    assertThat(StreamProgress.lag(42_000), equalTo("42s"));
    assertThat(StreamProgress.lag(400L * 86_400_000L + 3_600_000L), equalTo("1y 35d"));
  }

  private static org.hamcrest.Matcher<String> allOf(String a, String b) {
    return org.hamcrest.Matchers.allOf(containsString(a), containsString(b));
  }

  @Test
  void theLineIsPrintedFromItsSourceAndOnceMoreWithTheFinalResults() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    AtomicReference<MetricQueryResults> now = new AtomicReference<>();
    try (Progress p = Progress.startForTest(err, 2, 2, now::get, 0, 20)) {
      Thread.sleep(100); // nothing to read yet: the line still shows, with zeros
      now.set(results(Counters.NAMESPACE, Counters.READ, "v", 7));
      Thread.sleep(200);
      p.finish(results(Counters.NAMESPACE, Counters.READ, "v", 9,
          StoreCounters.NAMESPACE, StoreCounters.PARTITIONS_PUBLISHED, "p", 2));
    }
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().collect(Collectors.toList());
    assertThat(lines.size(), greaterThanOrEqualTo(3));
    assertThat(lines.get(0), containsString("reading        read 0"));
    assertThat(lines.stream().anyMatch(l -> l.contains("read 7")), is(true));
    assertThat(lines.get(lines.size() - 1), containsString("finishing      read 9"));
  }

  @Test
  void theFinalNumbersAreNotPrintedTwice() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    MetricQueryResults last = results(Counters.NAMESPACE, Counters.READ, "v", 9);
    try (Progress p = Progress.startForTest(err, 1, 1, () -> last, 0, 60_000)) {
      Thread.sleep(200); // one line, with the numbers the end brings too
      p.finish(last);
    }
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().collect(Collectors.toList());
    assertThat(lines.size(), is(1));
    assertThat(lines.get(0), containsString("read 9"));
  }

  @Test
  void withoutAnyLineBeforeTheEndNothingIsPrinted() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    try (Progress p = Progress.startForTest(err, 1, 1, () -> null, 60_000, 60_000)) {
      p.finish(results(Counters.NAMESPACE, Counters.READ, "v", 9));
    }
    assertThat(bytes.size(), is(0));
  }

  @Test
  void theFlinkReporterSumsLiveCountersAndKeepsThoseOfFinishedTasks() {
    String run = "test-" + System.nanoTime();
    Properties props = new Properties();
    props.setProperty(FlinkProgressReporter.RUN_PROPERTY, run);
    FlinkProgressReporter reporter =
        (FlinkProgressReporter) new FlinkProgressReporter.Factory().createMetricReporter(props);
    try {
      assertThat(FlinkProgressReporter.of(run), is(reporter));
      UnregisteredMetricsGroup group = new UnregisteredMetricsGroup();
      SimpleCounter read1 = new SimpleCounter();
      SimpleCounter read2 = new SimpleCounter();
      SimpleCounter staged = new SimpleCounter();
      SimpleCounter flinks = new SimpleCounter();
      reporter.notifyOfAddedMetric(read1, "featurebeam.read", group);
      reporter.notifyOfAddedMetric(read2, "featurebeam.read", group);
      reporter.notifyOfAddedMetric(staged, "featurebeam.store.files_staged", group);
      reporter.notifyOfAddedMetric(flinks, "numRecordsIn", group);
      reporter.notifyOfAddedMetric(new SimpleCounter(), "featurebeam.quarantine.MALFORMED", group);
      read1.inc(5);
      read2.inc(7);
      staged.inc(3);
      flinks.inc(1000);

      ProgressSink sink = new ProgressSink();
      sink.writeMetrics(reporter.snapshot());
      assertThat(sink.stage(Counters.READ), is(12L));
      assertThat(sink.store(StoreCounters.FILES_STAGED), is(3L));

      // A finished task's metric group closes: its counts stay in the totals.
      reporter.notifyOfRemovedMetric(read1, "featurebeam.read", group);
      read2.inc(1);
      sink.writeMetrics(reporter.snapshot());
      assertThat(sink.stage(Counters.READ), is(13L));
      assertThat(reporter.snapshot().getCounters().iterator().hasNext(), is(true));
    } finally {
      FlinkProgressReporter.forget(run);
    }
    assertThat(FlinkProgressReporter.of(run), nullValue());
  }

  @Test
  void flinkNamesMapToFeatureBeamsCountersOnly() {
    assertThat(FlinkProgressReporter.beamName("featurebeam.read"),
        is(MetricName.named(Counters.NAMESPACE, Counters.READ)));
    assertThat(FlinkProgressReporter.beamName("featurebeam.store.partitions_published"),
        is(MetricName.named(StoreCounters.NAMESPACE, StoreCounters.PARTITIONS_PUBLISHED)));
    // The run report's quarantine reasons come through the reporter too.
    assertThat(FlinkProgressReporter.beamName("featurebeam.quarantine.BAD_TYPE:amount"),
        is(MetricName.named(Counters.QUARANTINE_NAMESPACE, "BAD_TYPE:amount")));
    assertThat(FlinkProgressReporter.beamName("featurebeam."), nullValue());
    assertThat(FlinkProgressReporter.beamName("numRecordsOut"), nullValue());
  }
}
