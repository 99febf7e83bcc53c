package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.io.source.KafkaSource;
import dev.featurebeam.transforms.Counters;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.beam.sdk.metrics.DistributionResult;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricKey;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.StringSetResult;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;

/**
 * FeatureBeam's Beam counters as the embedded Flink cluster of one run holds them, for the
 * progress line while the job runs.
 *
 * <p>Why a Flink reporter and not Beam's metrics pusher: Beam's Flink runner creates its
 * {@code MetricsPusher} only once a batch job has finished, so a {@code --metricsSink} hears
 * nothing while it runs, and the job's accumulators are registered when each task closes. What is
 * live is Flink's own metric system: at the end of every bundle the runner copies each step's
 * Beam counters into Flink counters named {@code <namespace>.<name>} in the operator's metric
 * group. In a batch job a task's bundle is all its input, so a stage's numbers arrive as each of
 * its parallel instances finishes.
 *
 * <p>Flink creates reporters itself, by the factory named in its configuration ({@link
 * LiveMetrics} writes one for the run); the reporter finds its run's listener by the
 * {@value #RUN_PROPERTY} property of that configuration.
 */
public final class FlinkProgressReporter implements MetricReporter {
  static final String NAME = "featurebeam";
  static final String RUN_PROPERTY = "run";

  /** Reporters by run, while their run lasts: the one handle from a run to what Flink built. */
  private static final Map<String, FlinkProgressReporter> BY_RUN = new ConcurrentHashMap<>();

  private final String run;
  /** Live counters by Beam metric name; a removed one leaves its last count in {@link #done}. */
  private final Map<MetricName, Map<Counter, Boolean>> live = new HashMap<>();
  private final Map<MetricName, Long> done = new HashMap<>();
  /** The source's watermark gauges (Beam's Flink runner mirrors Beam gauges as Gauge<Long>). */
  private final Map<MetricName, Gauge<?>> gauges = new HashMap<>();

  FlinkProgressReporter(String run) {
    this.run = run;
  }

  /** The reporter Flink made for {@code run}, if it has made one yet. */
  static FlinkProgressReporter of(String run) {
    return BY_RUN.get(run);
  }

  static void forget(String run) {
    BY_RUN.remove(run);
  }

  /** Beam's name of a Flink counter that mirrors one of FeatureBeam's, or null. */
  static MetricName beamName(String flinkName) {
    // The report reads the quarantine reasons from here too; longest namespaces first.
    for (String ns : new String[] {
        Counters.QUARANTINE_NAMESPACE, StoreCounters.NAMESPACE, Counters.NAMESPACE}) {
      String prefix = ns + ".";
      if (flinkName.startsWith(prefix) && flinkName.indexOf('.', prefix.length()) < 0
          && flinkName.length() > prefix.length()) {
        return MetricName.named(ns, flinkName.substring(prefix.length()));
      }
    }
    return null;
  }

  @Override
  public void open(MetricConfig config) {}

  @Override
  public void close() {}

  @Override
  public synchronized void notifyOfAddedMetric(Metric metric, String metricName, MetricGroup group) {
    MetricName name = beamName(metricName);
    if (name != null && metric instanceof Counter) {
      live.computeIfAbsent(name, n -> new IdentityHashMap<>()).put((Counter) metric, true);
    } else if (name != null && metric instanceof Gauge
        && name.getName().startsWith(KafkaSource.WATERMARK_GAUGE_PREFIX)) {
      gauges.put(name, (Gauge<?>) metric);
    }
  }

  @Override
  public synchronized void notifyOfRemovedMetric(
      Metric metric, String metricName, MetricGroup group) {
    MetricName name = beamName(metricName);
    Map<Counter, Boolean> counters = name == null ? null : live.get(name);
    if (counters != null && counters.remove(metric) != null) {
      done.merge(name, ((Counter) metric).getCount(), Long::sum);
    }
    if (name != null && gauges.get(name) == metric) {
      gauges.remove(name);
    }
  }

  /** The counts so far, as Beam's metric results. */
  synchronized MetricQueryResults snapshot() {
    Map<MetricName, Long> sums = new HashMap<>(done);
    live.forEach((name, counters) -> counters.keySet()
        .forEach(c -> sums.merge(name, c.getCount(), Long::sum)));
    List<MetricResult<Long>> results = new ArrayList<>();
    sums.forEach((name, v) -> results.add(MetricResult.attempted(MetricKey.create("flink", name), v)));
    List<MetricResult<GaugeResult>> gaugeResults = new ArrayList<>();
    gauges.forEach((name, g) -> {
      Object v = g.getValue();
      if (v instanceof Long) {
        gaugeResults.add(MetricResult.attempted(MetricKey.create("flink", name),
            GaugeResult.create((Long) v, org.joda.time.Instant.now())));
      }
    });
    return MetricQueryResults.create(results, List.<MetricResult<DistributionResult>>of(),
        gaugeResults, List.<MetricResult<StringSetResult>>of());
  }

  /** Named in the Flink configuration of a run; found through {@code ServiceLoader}. */
  public static final class Factory implements MetricReporterFactory {
    @Override
    public MetricReporter createMetricReporter(Properties properties) {
      String run = properties.getProperty(RUN_PROPERTY, "");
      FlinkProgressReporter reporter = new FlinkProgressReporter(run);
      if (!run.isEmpty()) {
        BY_RUN.put(run, reporter);
      }
      return reporter;
    }
  }
}
