package dev.featurebeam.transforms;

import dev.featurebeam.model.RawRecord;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.spec.SpecParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.PipelineResult;
import org.apache.beam.sdk.metrics.MetricNameFilter;
import org.apache.beam.sdk.metrics.MetricQueryResults;
import org.apache.beam.sdk.metrics.MetricResult;
import org.apache.beam.sdk.metrics.MetricsFilter;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.display.HasDisplayData;
import org.apache.beam.sdk.values.Row;

/** Test data helpers: fixture files, raw records from simple CSV text, rows rendered as CSV. */
public final class Fixtures {
  private Fixtures() {}

  public static String resource(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no test resource " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static FeatureSpec spec(String name) {
    return SpecParser.parse(resource(name));
  }

  /** Raw records from CSV text with a header; no quoting (test data only). */
  public static List<RawRecord> records(String csv) {
    String[] lines = csv.strip().split("\n");
    String[] header = lines[0].split(",", -1);
    List<RawRecord> out = new ArrayList<>();
    for (int i = 1; i < lines.length; i++) {
      String[] cells = lines[i].split(",", -1);
      Map<String, String> fields = new LinkedHashMap<>();
      for (int j = 0; j < header.length; j++) {
        fields.put(header[j].strip(), j < cells.length ? cells[j] : null);
      }
      out.add(RawRecord.of("test:" + (i + 1), lines[i], fields));
    }
    return out;
  }

  /** A feature row as a CSV line in column order: nulls empty, dates ISO, doubles as Java prints. */
  public static String csv(Row row) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < row.getFieldCount(); i++) {
      if (i > 0) {
        sb.append(',');
      }
      Object v = row.getValue(i);
      if (v instanceof org.joda.time.ReadableInstant) {
        v = java.time.Instant.ofEpochMilli(((org.joda.time.ReadableInstant) v).getMillis());
      }
      sb.append(v == null ? "" : v.toString());
    }
    return sb.toString();
  }

  /** Data lines of an expected CSV (header dropped). */
  public static List<String> expectedLines(String csv) {
    List<String> out = new ArrayList<>();
    String[] lines = csv.strip().split("\n");
    for (int i = 1; i < lines.length; i++) {
      out.add(lines[i].strip());
    }
    return out;
  }

  /**
   * A counter's committed value summed over steps, from a finished pipeline's metrics. Committed,
   * not attempted: the DirectRunner folds attempted updates in on another thread, and a read right
   * after the last bundle can miss that bundle's (seen with counters of the pipeline's last step).
   */
  public static long counter(PipelineResult result, String namespace, String name) {
    MetricQueryResults q = result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(namespace, name)).build());
    long total = 0;
    for (MetricResult<Long> c : q.getCounters()) {
      total += c.getCommitted();
    }
    return total;
  }

  /** Like {@link #counter}, counting only the steps under the transform named {@code step}. */
  public static long counterUnder(
      PipelineResult result, String step, String namespace, String name) {
    MetricQueryResults q = result.metrics().queryMetrics(MetricsFilter.builder()
        .addNameFilter(MetricNameFilter.named(namespace, name)).addStep(step).build());
    long total = 0;
    for (MetricResult<Long> c : q.getCounters()) {
      total += c.getCommitted();
    }
    return total;
  }

  /** The full names of every transform applied to {@code pipeline} so far. */
  public static List<String> stepNames(org.apache.beam.sdk.Pipeline pipeline) {
    List<String> names = new ArrayList<>();
    pipeline.traverseTopologically(new org.apache.beam.sdk.Pipeline.PipelineVisitor.Defaults() {
      @Override
      public CompositeBehavior enterCompositeTransform(
          org.apache.beam.sdk.runners.TransformHierarchy.Node node) {
        names.add(node.getFullName());
        return CompositeBehavior.ENTER_TRANSFORM;
      }

      @Override
      public void visitPrimitiveTransform(
          org.apache.beam.sdk.runners.TransformHierarchy.Node node) {
        names.add(node.getFullName());
      }
    });
    return names;
  }

  /** A component's display data items, key to value as text. */
  public static Map<String, String> displayData(HasDisplayData component) {
    Map<String, String> out = new java.util.TreeMap<>();
    for (DisplayData.Item item : DisplayData.from(component).items()) {
      out.put(item.getKey(), String.valueOf(item.getValue()));
    }
    return out;
  }

  /**
   * A fault for the {@code ERROR:<step>} tests: in {@code step} ("validate", "clean"), the record
   * or event whose {@code event_id} is {@code eventId} throws, with a cause. No real input makes
   * those steps throw (see {@link FaultForTests}).
   */
  static FaultForTests throwFor(String step, String eventId) {
    return (s, record) -> {
      if (!s.equals(step)) {
        return;
      }
      String id = record instanceof RawRecord
          ? ((RawRecord) record).fields().get("event_id")
          : ((Row) record).getString("event_id");
      if (eventId.equals(id)) {
        throw new IllegalStateException("injected for " + id, new ArithmeticException("root cause"));
      }
    };
  }
}
