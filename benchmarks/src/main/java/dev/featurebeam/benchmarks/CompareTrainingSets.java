package dev.featurebeam.benchmarks;

import dev.featurebeam.io.sink.PartitionReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.hadoop.conf.Configuration;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * Checks that two training-set Parquet files hold the same rows, in the same order, every column:
 * FeatureBeam's {@code training-set --out} (the reference, named first) and DuckDbTrainingSet's.
 *
 * <pre>
 * java -cp ... dev.featurebeam.benchmarks.CompareTrainingSets featurebeam=A.parquet duckdb=B.parquet [--show=10]
 * </pre>
 *
 * <p>Both files are read with parquet-avro, one row at a time. The column names must be the same
 * in the same order, and each column's Avro type (without its null branch) the same: the spine's
 * columns strings, then the features as the offline store types them. Row i of one file is
 * compared with row i of the other, value by value with {@code equals} (so doubles bit for bit:
 * {@code amount_30d} has no tolerance). Both files are sorted by instant, entity and the spine's
 * columns, so equal multisets of rows give equal sequences; when they differ, the report also
 * says whether the rows are the same multiset in another order. Exit status 0 when everything
 * agrees, 1 otherwise; the last line says {@code AGREE} or {@code DISAGREE}.
 */
public final class CompareTrainingSets {
  private CompareTrainingSets() {}

  public static void main(String[] args) throws IOException {
    CompareOutputs.quietLogs();
    BenchArgs a;
    List<String[]> sides;
    try {
      a = BenchArgs.parse(args);
      sides = CompareOutputs.labelled(a.positional);
      if (sides.size() != 2) {
        throw new IllegalArgumentException("name exactly two files to compare");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("CompareTrainingSets: " + e.getMessage());
      System.err.println("usage: CompareTrainingSets [--show=10] LABEL=FILE.parquet LABEL=FILE.parquet");
      System.exit(2);
      return;
    }
    int show = Integer.parseInt(a.get("show", "10"));
    Result r = compare(sides.get(0)[0], Path.of(sides.get(0)[1]), sides.get(1)[0],
        Path.of(sides.get(1)[1]), show, System.out);
    System.exit(r.agree() ? 0 : 1);
  }

  /** What {@link #compare} found. */
  record Result(boolean agree, long refRows, long rows, long differingRows, long amountsNonNull,
      long amountsExact, List<String> examples) {}

  /** Compares {@code path} with the reference {@code refPath} and prints a report. */
  static Result compare(String refLabel, Path refPath, String label, Path path, int show,
      PrintStream out) throws IOException {
    for (Path p : List.of(refPath, path)) {
      if (!Files.isRegularFile(p)) {
        throw new IllegalArgumentException(p + " is not a file");
      }
    }
    List<String> examples = new ArrayList<>();
    long refRows = 0;
    long rows = 0;
    long differing = 0;
    long amountsNonNull = 0;
    long amountsExact = 0;
    boolean schemaOk;
    int amount;
    try (ParquetReader<GenericRecord> ref = reader(refPath);
        ParquetReader<GenericRecord> got = reader(path)) {
      GenericRecord x = ref.read();
      GenericRecord g = got.read();
      List<String> refColumns = describe(PartitionReader.schema(refPath));
      List<String> columns = describe(PartitionReader.schema(path));
      schemaOk = refColumns.equals(columns);
      if (!schemaOk) {
        examples.add("columns differ: " + refLabel + " " + refColumns + ", " + label + " " + columns);
      }
      amount = x == null ? -1 : fieldIndex(x.getSchema(), "amount_30d");
      while (x != null || g != null) {
        if (x != null && g != null) {
          int width = Math.max(x.getSchema().getFields().size(), g.getSchema().getFields().size());
          boolean same = x.getSchema().getFields().size() == g.getSchema().getFields().size();
          for (int c = 0; c < width && same; c++) {
            same = Objects.equals(value(x, c), value(g, c));
          }
          if (amount >= 0 && value(x, amount) != null) {
            amountsNonNull++;
            amountsExact += Objects.equals(value(x, amount), value(g, amount)) ? 1 : 0;
          }
          if (!same) {
            differing++;
            if (examples.size() < show) {
              examples.add("row " + refRows + ": " + refLabel + " " + text(x) + " | " + label + " "
                  + text(g) + differences(x, g));
            }
          }
        } else if (examples.size() < show) {
          examples.add("row " + (x != null ? refRows : rows) + " only in "
              + (x != null ? refLabel + ": " + text(x) : label + ": " + text(g)));
        }
        if (x != null) {
          refRows++;
          x = ref.read();
        }
        if (g != null) {
          rows++;
          g = got.read();
        }
      }
    }
    boolean agree = schemaOk && differing == 0 && refRows == rows;
    out.printf(Locale.ROOT, "columns: %s%n", String.join(", ", describe(PartitionReader.schema(refPath))));
    out.printf(Locale.ROOT, "%s: %,d rows in %s%n", refLabel, refRows, refPath);
    out.printf(Locale.ROOT, "%s: %,d rows in %s%n", label, rows, path);
    out.printf(Locale.ROOT, "%s vs %s: %s; %,d rows compared, %,d differ, %,d rows only in the longer"
            + " file; amount_30d: %,d non-null, %,d bit-identical%n",
        label, refLabel, agree ? "same rows" : "DIFFERENT", Math.min(rows, refRows), differing,
        Math.abs(rows - refRows), amountsNonNull, amountsExact);
    if (!agree && schemaOk) {
      out.println(multiset(refLabel, refPath, label, path));
    }
    for (String e : examples) {
      out.println("  " + e);
    }
    out.println(agree ? "AGREE" : "DISAGREE");
    return new Result(agree, refRows, rows, differing, amountsNonNull, amountsExact, examples);
  }

  /** Whether the files hold the same rows in another order: counts of each row's text. */
  private static String multiset(String refLabel, Path refPath, String label, Path path)
      throws IOException {
    Map<String, long[]> counts = new HashMap<>();
    try (ParquetReader<GenericRecord> ref = reader(refPath)) {
      for (GenericRecord r = ref.read(); r != null; r = ref.read()) {
        counts.computeIfAbsent(text(r), k -> new long[2])[0]++;
      }
    }
    try (ParquetReader<GenericRecord> got = reader(path)) {
      for (GenericRecord r = got.read(); r != null; r = got.read()) {
        counts.computeIfAbsent(text(r), k -> new long[2])[1]++;
      }
    }
    long onlyRef = 0;
    long onlyHere = 0;
    for (long[] n : counts.values()) {
      onlyRef += Math.max(0, n[0] - n[1]);
      onlyHere += Math.max(0, n[1] - n[0]);
    }
    return onlyRef == 0 && onlyHere == 0
        ? "as multisets the rows are the same: only their order differs"
        : String.format(Locale.ROOT, "as multisets: %,d rows only in %s, %,d only in %s", onlyRef,
            refLabel, onlyHere, label);
  }

  private static ParquetReader<GenericRecord> reader(Path file) throws IOException {
    return AvroParquetReader.<GenericRecord>builder(HadoopInputFile.fromPath(
            new org.apache.hadoop.fs.Path(file.toAbsolutePath().toUri()), new Configuration()))
        .withDataModel(GenericData.get())
        .build();
  }

  /** "name:type" per column, the type without its null branch (and logical type, if any). */
  static List<String> describe(Schema schema) {
    List<String> out = new ArrayList<>();
    for (Schema.Field f : schema.getFields()) {
      Schema s = f.schema();
      if (s.getType() == Schema.Type.UNION) {
        for (Schema b : s.getTypes()) {
          if (b.getType() != Schema.Type.NULL) {
            s = b;
          }
        }
      }
      out.add(f.name() + ":" + s.getType().getName()
          + (s.getLogicalType() == null ? "" : "/" + s.getLogicalType().getName()));
    }
    return out;
  }

  private static int fieldIndex(Schema schema, String name) {
    Schema.Field f = schema.getField(name);
    return f == null ? -1 : f.pos();
  }

  /** The value of column c, strings as String (Avro gives Utf8). */
  private static Object value(GenericRecord r, int c) {
    Object v = r.get(c);
    return v instanceof CharSequence ? v.toString() : v;
  }

  private static String text(GenericRecord r) {
    StringBuilder sb = new StringBuilder();
    for (int c = 0; c < r.getSchema().getFields().size(); c++) {
      sb.append(c > 0 ? "," : "").append(value(r, c) == null ? "" : value(r, c));
    }
    return sb.toString();
  }

  private static String differences(GenericRecord x, GenericRecord g) {
    StringBuilder sb = new StringBuilder();
    int n = Math.min(x.getSchema().getFields().size(), g.getSchema().getFields().size());
    for (int c = 0; c < n; c++) {
      if (!Objects.equals(value(x, c), value(g, c))) {
        sb.append(sb.length() == 0 ? " (" : ", ").append(x.getSchema().getFields().get(c).name());
      }
    }
    return sb.length() == 0 ? "" : sb.append(" differ)").toString();
  }
}
