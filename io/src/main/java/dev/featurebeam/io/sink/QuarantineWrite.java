package dev.featurebeam.io.sink;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.featurebeam.model.QuarantineRecord;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.transforms.windowing.Window;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * Writes a run's quarantined records into one JSON-lines file, one object per record with the keys
 * {@code reason, detail, source, payload} in that order:
 *
 * <pre>{@code
 * {"reason":"BAD_TYPE:amount","detail":"not a double: abc","source":"events.csv:7","payload":"e7,u1,abc"}
 * }</pre>
 *
 * <p>Lines are sorted by source, then reason, then payload (then detail), so a rerun writes the
 * same bytes. The file is replaced atomically (written to a temporary file beside it, then
 * renamed), and it is written even when there is nothing to quarantine, so a clean rerun clears an
 * old file.
 *
 * <p>Returns a single element: the number of records written, available once the file is in place.
 * All records of a run pass through one worker, which suits a quarantine (the exception, not the
 * rule); the path must be local (or locally mounted).
 */
public class QuarantineWrite extends PTransform<PCollection<QuarantineRecord>, PCollection<Long>> {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String path;

  private QuarantineWrite(String path) {
    this.path = path;
  }

  /** Writes to {@code path}, e.g. {@code OUT/_runs/<run>/quarantine.jsonl}. */
  public static QuarantineWrite to(String path) {
    return new QuarantineWrite(path);
  }

  @Override
  public PCollection<Long> expand(PCollection<QuarantineRecord> records) {
    return records
        .apply("IntoGlobalWindow", Window.into(new GlobalWindows()))
        .apply(
            "SortKeyAndJsonLine",
            MapElements.into(TypeDescriptors.lists(TypeDescriptors.strings()))
                .via(QuarantineWrite::sortKeyAndLine))
        .setCoder(ListCoder.of(StringUtf8Coder.of()))
        // Combine.globally emits one (possibly empty) list even for an empty input.
        .apply("CollectLines", Combine.globally(new CollectLines()))
        .apply("WriteFile", ParDo.of(new WriteFileFn(path)))
        .setCoder(VarLongCoder.of());
  }

  /** One JSON line per record. */
  public static String toJsonLine(QuarantineRecord r) {
    ObjectNode node = JSON.createObjectNode();
    node.put("reason", r.reason());
    node.put("detail", r.detail());
    node.put("source", r.source());
    node.put("payload", r.payload());
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** [source, reason, payload, detail, json line]: the sort key, then what gets written. */
  private static List<String> sortKeyAndLine(QuarantineRecord r) {
    return List.of(r.source(), r.reason(), r.payload(), r.detail(), toJsonLine(r));
  }

  private static final Comparator<List<String>> ORDER =
      (a, b) -> {
        for (int i = 0; i < a.size(); i++) {
          int c = a.get(i).compareTo(b.get(i));
          if (c != 0) {
            return c;
          }
        }
        return 0;
      };

  /** Gathers every record's key and line into one list. */
  static class CollectLines
      extends Combine.CombineFn<List<String>, List<List<String>>, List<List<String>>> {
    @Override
    public List<List<String>> createAccumulator() {
      return new ArrayList<>();
    }

    @Override
    public List<List<String>> addInput(List<List<String>> acc, List<String> line) {
      acc.add(line);
      return acc;
    }

    @Override
    public List<List<String>> mergeAccumulators(Iterable<List<List<String>>> accs) {
      List<List<String>> all = new ArrayList<>();
      accs.forEach(all::addAll);
      return all;
    }

    @Override
    public List<List<String>> extractOutput(List<List<String>> acc) {
      return acc;
    }

    @Override
    public Coder<List<List<String>>> getAccumulatorCoder(
        CoderRegistry registry, Coder<List<String>> in) {
      return ListCoder.of(in);
    }

    @Override
    public Coder<List<List<String>>> getDefaultOutputCoder(
        CoderRegistry registry, Coder<List<String>> in) {
      return ListCoder.of(in);
    }
  }

  /** Sorts the lines and replaces the file with them; outputs how many there were. */
  static class WriteFileFn extends DoFn<List<List<String>>, Long> {
    private final String path;

    WriteFileFn(String path) {
      this.path = path;
    }

    @ProcessElement
    public void process(@Element List<List<String>> keyed, OutputReceiver<Long> out)
        throws IOException {
      List<List<String>> sorted = new ArrayList<>(keyed);
      sorted.sort(ORDER);
      Path target = Paths.get(path).toAbsolutePath();
      Files.createDirectories(target.getParent());
      // A hidden name beside the target: same filesystem, so the rename below is atomic.
      Path tmp =
          target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
      try {
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
          for (List<String> k : sorted) {
            w.write(k.get(k.size() - 1));
            w.write('\n');
          }
        }
        Files.move(tmp, target, ATOMIC_MOVE, REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
      out.output((long) sorted.size());
    }
  }
}
