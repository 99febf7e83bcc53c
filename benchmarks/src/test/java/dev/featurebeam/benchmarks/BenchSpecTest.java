package dev.featurebeam.benchmarks;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.SpecParser;
import dev.featurebeam.spec.ValueParser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** BenchSpec says what bench_spec.yaml says, so the hand-written comparators follow the YAML. */
class BenchSpecTest {
  static final Path SPEC = Path.of("bench_spec.yaml");

  @Test
  void fieldsAndColumnsFollowTheYaml() {
    FeatureSpec spec = SpecParser.parse(SPEC);
    List<String> fields = new ArrayList<>();
    for (FieldSpec f : spec.fields()) {
      fields.add(f.name());
    }
    assertThat(fields, is(BenchSpec.FIELDS));
    List<String> columns = new ArrayList<>(List.of(spec.entity(), "as_of_date"));
    for (FeatureDef f : spec.features()) {
      columns.add(f.name());
    }
    assertThat(columns, is(BenchSpec.COLUMNS));
    assertThat(spec.dedupKey(), is("event_id"));
    assertThat(spec.timestamp(), is("ts"));
    assertThat(spec.quality().isEmpty(), is(true));
    assertThat(spec.presenceWindowMillis(), is(BenchSpec.WINDOW_30D * BenchSpec.DAY_MS));
  }

  @Test
  void eventTimeBoundsAreFeatureBeams() {
    assertThat(BenchSpec.MIN_EVENT_MILLIS, is(ValueParser.MIN_TIMESTAMP_MILLIS));
    assertThat(BenchSpec.MAX_EVENT_MILLIS, is(ValueParser.END_TIMESTAMP_MILLIS - 1));
  }
}
