package dev.featurebeam.pipelines;

import dev.featurebeam.io.sink.StoreCounters;
import dev.featurebeam.io.source.KafkaSource;
import dev.featurebeam.transforms.Counters;
import java.util.HashMap;
import java.util.Map;
import org.apache.beam.sdk.metrics.GaugeResult;
import org.apache.beam.sdk.metrics.MetricName;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsSink;

/**
 * The Beam counters of the running job, as the progress line reads them: each counter's
 * attempted values summed over the steps that report it. Fed by {@link LiveMetrics} while the job
 * runs and with the job's final results at the end; as a {@link MetricsSink} it takes what a
 * runner's metrics pusher would push.
 */
final class ProgressSink implements MetricsSink {
  private static final long serialVersionUID = 1L;

  private transient volatile Map<MetricName, Long> counts = Map.of();

  /** The least of the stream source's partition watermarks, or null before any. */
  private transient volatile Long watermark;

  @Override
  public void writeMetrics(MetricQueryResults results) {
    Map<MetricName, Long> sums = new HashMap<>();
    for (MetricResult<Long> c : results.getCounters()) {
      String ns = c.getKey().metricName().getNamespace();
      if (ns.equals(Counters.NAMESPACE) || ns.equals(StoreCounters.NAMESPACE)) {
        Long v = c.getAttempted();
        sums.merge(c.getKey().metricName(), v == null ? 0L : v, Long::sum);
      }
    }
    counts = Map.copyOf(sums);
    Long least = null;
    for (MetricResult<GaugeResult> g : results.getGauges()) {
      MetricName name = g.getKey().metricName();
      GaugeResult v = g.getAttempted();
      if (name.getNamespace().equals(Counters.NAMESPACE)
          && name.getName().startsWith(KafkaSource.WATERMARK_GAUGE_PREFIX) && v != null
          && !v.equals(GaugeResult.empty())) {
        least = least == null ? v.getValue() : Math.min(least, v.getValue());
      }
    }
    watermark = least;
  }

  /** The stream's watermark as its source's partitions last reported it, or null. */
  Long watermarkMillis() {
    return watermark;
  }

  long count(String namespace, String name) {
    Map<MetricName, Long> c = counts;
    return c == null ? 0 : c.getOrDefault(MetricName.named(namespace, name), 0L);
  }

  long stage(String name) {
    return count(Counters.NAMESPACE, name);
  }

  long store(String name) {
    return count(StoreCounters.NAMESPACE, name);
  }
}
