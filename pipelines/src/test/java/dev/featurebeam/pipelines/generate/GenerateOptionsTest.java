package dev.featurebeam.pipelines.generate;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.nullValue;

import java.time.LocalDate;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;

/** generate's options as Beam parses them, and their defaults against the generator's own. */
class GenerateOptionsTest {
  @Test
  void theDefaultsAreTheGeneratorsDefaults() {
    GenerateOptions o = PipelineOptionsFactory.fromArgs("--out=x.csv").as(GenerateOptions.class);
    assertThat(GenerateOptions.toConfig(o), is(GeneratorConfig.builder().build()));
    assertThat(o.getPartitions(), is(KafkaTarget.DEFAULT_PARTITIONS));
    assertThat(o.getRate(), nullValue());
  }

  @Test
  void everyGeneratorOptionReachesTheConfig() {
    GenerateOptions o = PipelineOptionsFactory.fromArgs("--out=x", "--events=10", "--users=3",
        "--days=4", "--startDate=2024-02-29", "--seed=7", "--skew=0", "--duplicateFraction=0.1",
        "--malformedFraction=0.2", "--shards=2", "--format=json").as(GenerateOptions.class);
    assertThat(GenerateOptions.toConfig(o), is(new GeneratorConfig(7, 10, 3, 4,
        LocalDate.of(2024, 2, 29), 0, 0.1, 0.2, 2, EventFormat.JSONL)));
  }
}
