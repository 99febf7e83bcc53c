package dev.featurebeam.pipelines.generate;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;

import dev.featurebeam.spec.FeatureDef;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.FieldSpec;
import dev.featurebeam.spec.SpecParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bundled example: the spec parses, and the sample data is what the README says it is. */
class ExampleFilesTest {
  @TempDir Path dir;

  /** examples/ at the repository root, found from wherever the tests run. */
  static Path examples() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("examples/user_features.yaml"))) {
        return p.resolve("examples");
      }
    }
    throw new IllegalStateException("examples/user_features.yaml not found above " + Path.of("").toAbsolutePath());
  }

  @Test
  void exampleSpecParses() {
    FeatureSpec spec = SpecParser.parse(examples().resolve("user_features.yaml"));
    assertThat(spec.featureSet(), is("user_features"));
    assertThat(spec.entity(), is("user_id"));
    assertThat(spec.timestamp(), is("ts"));
    assertThat(spec.dedupKey(), is("event_id"));
    assertThat(spec.features().stream().map(FeatureDef::name).collect(Collectors.toList()), contains(
        "purchase_count_7d", "purchase_amount_30d", "avg_purchase_amount_30d",
        "max_purchase_amount_30d", "view_count_24h", "cart_count_7d", "active_24h",
        "distinct_categories_30d", "event_count_30d", "support_tickets_30d",
        "refunds_or_tickets_30d", "last_event_type", "days_since_last_purchase"));
    assertThat(spec.quality().size(), is(4));
    // The generator writes exactly the columns the spec's source schema declares.
    assertThat(spec.fields().stream().map(FieldSpec::name).collect(Collectors.toList()),
        is(GeneratedEvent.COLUMNS));
  }

  @Test
  void sampleDataIsTheDefaultConfigsOutput() throws IOException {
    Path sample = examples().resolve("data/events.csv");
    Path fresh = dir.resolve("events.csv");
    GenerationSummary s = EventGenerator.write(GeneratorConfig.builder().build(), fresh);
    assertThat("regenerate with GenerateExample, see examples/README.md",
        Files.mismatch(sample, fresh), is(-1L));
    assertThat(s.records(), is(100_500L));
    assertThat(Files.size(sample), lessThan(10_000_000L));
    try (BufferedReader in = Files.newBufferedReader(sample)) {
      assertThat(in.lines().count(), is(100_501L));
    }
    assertThat(List.of(s.malformed(), s.exactDuplicates(), s.conflictingDuplicates()),
        contains(200L, 250L, 250L));
  }
}
