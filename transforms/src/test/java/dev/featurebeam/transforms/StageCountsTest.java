package dev.featurebeam.transforms;

import static dev.featurebeam.transforms.Fixtures.counter;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.testing.TestPipelineExtension;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The counts BuildFeatures adds to a {@link StageCounts} as elements sum to its metrics, for both
 * de-duplication methods, and to the numbers read off the input by hand.
 */
@ExtendWith(TestPipelineExtension.class)
class StageCountsTest {
  static final FeatureSpec SPEC = SpecParser.parse(String.join("\n",
      "feature_set: counted",
      "version: 1",
      "entity: user_id",
      "timestamp: ts",
      "dedup_key: event_id",
      "dedup_within: 1d",
      "source_schema:",
      "  event_id: {type: string, required: true}",
      "  user_id: {type: string, required: true}",
      "  amount: {type: double}",
      "  ts: {type: timestamp, required: true}",
      "features:",
      "  - {name: n, agg: count, window: 2d}",
      ""));

  /** Per test run: the summed count elements, by name (one pipeline at a time). */
  static final Map<String, Long> SUMS = new ConcurrentHashMap<>();

  static List<RawRecord> input() {
    return Fixtures.records(String.join("\n",
        "event_id,user_id,amount,ts",
        "e1,u1,1.0,2025-01-05T10:00:00Z",
        "e1,u1,1.0,2025-01-05T10:00:00Z", // an exact copy of e1
        "e2,u1,2.0,2025-01-05T11:00:00Z",
        "e2,u1,9.0,2025-01-05T11:30:00Z", // a conflicting copy of e2, within 1d
        "e3,u2,3.0,2025-01-06T09:00:00Z",
        "e4,,4.0,2025-01-06T09:00:00Z", // no user: MISSING:user_id
        "e5,u2,abc,2025-01-06T10:00:00Z", // BAD_TYPE:amount
        "e6,u3,6.0,2025-01-09T10:00:00Z", // after the range: out of range
        "e7,u3,7.0,2025-01-04T10:00:00Z")); // before the range: counts for its windows
  }

  static class CollectFn extends DoFn<KV<String, Long>, Void> {
    @ProcessElement
    public void process(@Element KV<String, Long> count) {
      SUMS.merge(count.getKey(), count.getValue(), Long::sum);
    }
  }

  private static Map<String, Long> run(TestPipeline p, DeduplicateEvents.Method method) {
    SUMS.clear();
    StageCounts counts = StageCounts.create();
    p.apply(Create.of(input()).withCoder(RawRecord.RawRecordCoder.of()))
        .apply(BuildFeatures.of(SPEC, AsOfRange.of(LocalDate.parse("2025-01-05"),
                LocalDate.parse("2025-01-07")))
            .withDeduplicationMethod(method)
            .withCounts(counts));
    counts.all(p).apply(ParDo.of(new CollectFn()));
    PipelineResult result = p.run();
    result.waitUntilFinish();
    Map<String, Long> sums = new TreeMap<>(SUMS);
    for (String name : List.of(Counters.READ, Counters.VALID, Counters.QUARANTINED,
        Counters.DUPLICATES_EXACT, Counters.DUPLICATES_CONFLICTING, Counters.FEATURE_ROWS)) {
      assertThat(name, sums.getOrDefault(name, 0L),
          equalTo(counter(result, Counters.NAMESPACE, name)));
    }
    for (String reason : List.of("MISSING:user_id", "BAD_TYPE:amount")) {
      assertThat(reason, sums.get(StageCounts.REASON_PREFIX + reason),
          equalTo(counter(result, Counters.QUARANTINE_NAMESPACE, reason)));
    }
    // KeepRange's drops are what de-duplication let through less what stayed valid.
    assertThat(sums.get(StageCounts.UNIQUE) - sums.get(Counters.VALID),
        equalTo(counter(result, Counters.NAMESPACE, Counters.OUT_OF_RANGE)));
    return sums;
  }

  private static void assertHandCounts(Map<String, Long> sums) {
    assertThat(sums.get(Counters.READ), equalTo(9L));
    assertThat(sums.get(Counters.QUARANTINED), equalTo(2L));
    assertThat(sums.get(Counters.DUPLICATES_EXACT), equalTo(1L));
    assertThat(sums.get(Counters.DUPLICATES_CONFLICTING), equalTo(1L));
    assertThat(sums.get(StageCounts.UNIQUE), equalTo(5L)); // e1, e2, e3, e6, e7
    assertThat(sums.get(Counters.VALID), equalTo(4L)); // e6 is after the range
  }

  @Test
  void groupedDeduplicationCountsAsItsMetricsDo(TestPipeline p) {
    assertHandCounts(run(p, DeduplicateEvents.Method.GROUP_REPEATED_KEYS));
  }

  @Test
  void statefulDeduplicationCountsAsItsMetricsDo(TestPipeline p) {
    assertHandCounts(run(p, DeduplicateEvents.Method.STATE_AND_TIMERS));
  }

  @Test
  void countsAreFlattenedOnce(TestPipeline p) {
    StageCounts counts = StageCounts.create();
    counts.all(p);
    assertThrows(IllegalStateException.class, () -> counts.all(p));
    p.run().waitUntilFinish();
  }
}
