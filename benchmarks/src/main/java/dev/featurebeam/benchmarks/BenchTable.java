package dev.featurebeam.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Turns run.sh's measurements into the results table (Markdown, printed to standard output).
 *
 * <p>Input: a TSV file with one line per timed process: {@code events system run wall_seconds
 * max_rss_kb exit_status}. The system {@code featurebeam-flink-empty} (events 0) is FeatureBeam on
 * an input with a header and no records: its median is the start-up cost, shown on its own line
 * and subtracted in the "net of start-up" column of the FeatureBeam Flink rows. Ratios divide
 * medians by DuckDB's and the plain loop's medians for the same input; without any plain-java run
 * (training.sh) the table has no plain-loop column.
 */
public final class BenchTable {
  /** Display order and names. */
  static final Map<String, String> SYSTEMS = new LinkedHashMap<>();

  static {
    SYSTEMS.put("featurebeam-flink", "FeatureBeam, Flink local (parallelism 2)");
    SYSTEMS.put("featurebeam-flink-baseline", "FeatureBeam baseline build (BASELINE), Flink local");
    SYSTEMS.put("featurebeam-direct", "FeatureBeam, DirectRunner");
    SYSTEMS.put("duckdb", "DuckDB (one SQL query)");
    SYSTEMS.put("plain-java", "plain Java loop (1 thread)");
  }

  static final String EMPTY = "featurebeam-flink-empty";

  private BenchTable() {}

  record Run(long events, String system, double wall, long rssKb, int exit) {}

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: BenchTable MEASUREMENTS.tsv");
      System.exit(2);
    }
    System.out.print(table(Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)));
  }

  static String table(List<String> lines) {
    List<Run> runs = new ArrayList<>();
    for (String line : lines) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\t");
      runs.add(new Run(Long.parseLong(f[0]), f[1], Double.parseDouble(f[3]), Long.parseLong(f[4]),
          Integer.parseInt(f[5])));
    }
    // training.sh times no plain loop: then the table has no column for it.
    boolean plainJava = runs.stream().anyMatch(r -> r.system.equals("plain-java"));
    String plainHead = plainJava ? " ÷ plain Java |" : "";
    String plainRule = plainJava ? " ---: |" : "";
    StringBuilder out = new StringBuilder();
    out.append("| events | system | runs | median s | min s | max s | events/s | peak RSS MiB"
        + " | net of start-up s | ÷ DuckDB |" + plainHead + "\n");
    out.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + plainRule + "\n");
    Stats empty = Stats.of(runs, 0, EMPTY);
    if (empty != null) {
      out.append(String.format(Locale.ROOT, "| 0 | FeatureBeam, Flink local: start-up (empty input) | %s"
              + " | %s | %s | %s | — | %s | — | — |" + (plainJava ? " — |" : "") + "\n",
          empty.runsText(), s(empty.median), s(empty.min), s(empty.max), mib(empty.rssKb)));
    }
    TreeSet<Long> sizes = new TreeSet<>();
    for (Run r : runs) {
      if (!r.system.equals(EMPTY)) {
        sizes.add(r.events);
      }
    }
    for (long n : sizes) {
      Stats duck = Stats.of(runs, n, "duckdb");
      Stats plain = Stats.of(runs, n, "plain-java");
      for (Map.Entry<String, String> sys : SYSTEMS.entrySet()) {
        Stats st = Stats.of(runs, n, sys.getKey());
        if (st == null) {
          continue;
        }
        if (st.ok == 0) {
          out.append(String.format(Locale.ROOT, "| %,d | %s | %s | FAILED | | | | | | |"
              + (plainJava ? " |" : "") + "\n",
              n, sys.getValue(), st.runsText()));
          continue;
        }
        String net = sys.getKey().equals("featurebeam-flink") && empty != null && empty.ok > 0
            ? s(st.median - empty.median) : "—";
        out.append(String.format(Locale.ROOT, "| %,d | %s | %s | %s | %s | %s | %,.0f | %s | %s | %s |%s\n",
            n, sys.getValue(), st.runsText(), s(st.median), s(st.min), s(st.max), n / st.median,
            mib(st.rssKb), net, ratio(st, duck), plainJava ? " " + ratio(st, plain) + " |" : ""));
      }
    }
    return out.toString();
  }

  private static String s(double seconds) {
    return String.format(Locale.ROOT, "%.2f", seconds);
  }

  private static String mib(long kb) {
    return String.format(Locale.ROOT, "%,d", Math.round(kb / 1024.0));
  }

  private static String ratio(Stats st, Stats base) {
    if (base == null || base.ok == 0) {
      return "—";
    }
    return String.format(Locale.ROOT, "%.1f×", st.median / base.median);
  }

  /** Median, min and max wall time and the peak RSS over one system's successful runs. */
  static final class Stats {
    int runs;
    int ok;
    double median;
    double min;
    double max;
    long rssKb;

    static Stats of(List<Run> all, long events, String system) {
      List<Double> walls = new ArrayList<>();
      Stats s = new Stats();
      for (Run r : all) {
        if (r.events != events || !r.system.equals(system)) {
          continue;
        }
        s.runs++;
        if (r.exit == 0) {
          s.ok++;
          walls.add(r.wall);
          s.rssKb = Math.max(s.rssKb, r.rssKb);
        }
      }
      if (s.runs == 0) {
        return null;
      }
      if (s.ok > 0) {
        double[] w = walls.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(w);
        s.min = w[0];
        s.max = w[w.length - 1];
        s.median = w.length % 2 == 1 ? w[w.length / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2;
      }
      return s;
    }

    String runsText() {
      return ok == runs ? Integer.toString(runs) : ok + " of " + runs + " ok";
    }
  }
}
