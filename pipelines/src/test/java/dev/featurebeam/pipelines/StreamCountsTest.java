package dev.featurebeam.pipelines;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.featurebeam.testing.TestPipelineExtension;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.StageCounts;
import java.nio.file.Path;
import java.util.Map;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.testing.TestStream;
import org.apache.beam.sdk.values.KV;
import org.joda.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A stream's counts: summed in state, written to their file, read back as the report's. */
@ExtendWith(TestPipelineExtension.class)
class StreamCountsTest {
  @TempDir Path tmp;

  @Test
  void countsAreSummedAndWrittenAfterTheyChange(TestPipeline p) {
    Path file = tmp.resolve("_counts.json");
    p.apply(TestStream.create(StageCounts.coder())
            .addElements(KV.of(Counters.READ, 5L), KV.of(Counters.READ, 2L))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .addElements(KV.of(Counters.VALID, 4L), KV.of(StageCounts.UNIQUE, 6L),
                KV.of(StageCounts.REASON_PREFIX + "MISSING:ts", 1L), KV.of(Counters.QUARANTINED, 1L))
            .advanceProcessingTime(Duration.standardSeconds(1))
            .advanceWatermarkToInfinity())
        .apply(StreamCounts.to(file));
    p.run().waitUntilFinish();
    Map<String, Long> totals = StreamCounts.read(file);
    assertThat(totals, equalTo(Map.of(Counters.READ, 7L, Counters.VALID, 4L, StageCounts.UNIQUE,
        6L, StageCounts.REASON_PREFIX + "MISSING:ts", 1L, Counters.QUARANTINED, 1L)));
    Map<String, Long> counters = StreamCounts.counters(totals);
    assertThat(counters.get(Counters.OUT_OF_RANGE), equalTo(2L));
    assertThat(counters.get(Counters.DUPLICATES_EXACT), equalTo(0L));
    assertThat(RunReport.unaccounted(counters), equalTo(0L));
    assertThat(StreamCounts.reasons(totals), equalTo(Map.of("MISSING:ts", 1L)));
  }

  @Test
  void noFileYetIsNoCounts() {
    assertThat(StreamCounts.read(tmp.resolve("absent.json")), equalTo(Map.of()));
  }
}
