package dev.featurebeam.benchmarks;

import dev.featurebeam.io.source.JdbcRelation;
import dev.featurebeam.io.source.JdbcSource;
import dev.featurebeam.io.source.JdbcTarget;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.nio.file.Path;
import org.apache.beam.runners.flink.FlinkPipelineOptions;
import org.apache.beam.runners.flink.FlinkRunner;
import org.apache.beam.sdk.Pipeline;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import dev.featurebeam.model.RawRecord;

/**
 * The JDBC source's read alone: a pipeline of {@link JdbcSource} (the whole table, the spec's
 * columns, as FeatureBeam's batch reads it) into a counter, on Flink's embedded local mode with
 * parallelism 2; prints the rows and the time from submission to the end.
 *
 * <pre>
 * java -cp … JdbcRead --url=jdbc:postgresql://… --table=T --spec=SPEC --partitions=N --until=INSTANT
 * </pre>
 */
public final class JdbcRead {
  private JdbcRead() {}

  public static void main(String[] args) throws Exception {
    BenchArgs a = BenchArgs.parse(args);
    FeatureSpec spec = SpecParser.parse(Path.of(a.required("spec")));
    JdbcTarget target = JdbcTarget.parse(a.required("url"), null, null, System::getenv);
    JdbcRelation relation = JdbcRelation.table(a.required("table"));
    int partitions = Integer.parseInt(a.options.getOrDefault("partitions", "1"));
    long until = java.time.Instant.parse(a.required("until")).toEpochMilli();
    JdbcSource source = JdbcSource.checked(target, relation, spec)
        .withTimeRange(Long.MIN_VALUE, until)
        .withPartitions(partitions);
    FlinkPipelineOptions options = PipelineOptionsFactory.as(FlinkPipelineOptions.class);
    options.setRunner(FlinkRunner.class);
    options.setFlinkMaster("[local]");
    options.setParallelism(2);
    options.setFasterCopy(true);
    Pipeline p = Pipeline.create(options);
    p.apply("Read", source).apply("Count", ParDo.of(new CountFn()));
    long started = System.nanoTime();
    PipelineResult result = p.run();
    result.waitUntilFinish();
    double seconds = (System.nanoTime() - started) / 1e9;
    long rows = result.metrics().queryMetrics(MetricsFilter.builder()
            .addNameFilter(MetricNameFilter.named("jdbc-bench", "rows")).build())
        .getCounters().iterator().next().getAttempted();
    System.out.printf("partitions=%d rows=%d seconds=%.1f rows_per_s=%.0f%n", partitions, rows,
        seconds, rows / seconds);
  }

  static final class CountFn extends DoFn<RawRecord, Void> {
    private final Counter rows = Metrics.counter("jdbc-bench", "rows");

    @ProcessElement
    public void process() {
      rows.inc();
    }
  }
}
