package dev.featurebeam.pipelines;

import static com.google.common.base.Preconditions.checkArgument;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.featurebeam.transforms.Counters;
import dev.featurebeam.transforms.StageCounts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.MapCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.state.StateSpec;
import org.apache.beam.sdk.state.StateSpecs;
import org.apache.beam.sdk.state.TimeDomain;
import org.apache.beam.sdk.state.Timer;
import org.apache.beam.sdk.state.TimerSpec;
import org.apache.beam.sdk.state.TimerSpecs;
import org.apache.beam.sdk.state.ValueState;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.WithKeys;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.TypeDescriptors;
import org.joda.time.Duration;

/**
 * Sums a stream's {@link StageCounts} in Beam state and writes the totals to a JSON file at most
 * every {@link #WRITE_EVERY} after they change: the stream's report reads its counts there. The
 * totals are checkpointed with the rest of the stream's state, so after a restore they hold every
 * event the stream consumed once, whatever the restarts. One key, so one worker sums everything;
 * it receives a handful of counts per bundle of each stage, not one per event.
 */
final class StreamCounts extends PTransform<PCollection<KV<String, Long>>, PCollection<Void>> {
  static final Duration WRITE_EVERY = Duration.millis(200);

  private static final ObjectMapper JSON = new ObjectMapper();

  private final String path;

  private StreamCounts(String path) {
    checkArgument(path != null && !path.isEmpty(), "a counts file is needed");
    this.path = path;
  }

  /** Writes the totals to {@code path} (a local file, replaced atomically). */
  static StreamCounts to(Path path) {
    return new StreamCounts(path.toAbsolutePath().toString());
  }

  @Override
  public PCollection<Void> expand(PCollection<KV<String, Long>> counts) {
    return counts
        .apply("OneKey", WithKeys.<String, KV<String, Long>>of("").withKeyType(
            TypeDescriptors.strings()))
        .setCoder(KvCoder.of(StringUtf8Coder.of(), StageCounts.coder()))
        .apply("SumInState", ParDo.of(new SumFn(path)));
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("path", path).withLabel("Counts file"))
        .add(DisplayData.item("writeEvery", WRITE_EVERY).withLabel("Written at most every"));
  }

  /** The totals last written to {@code file}; empty when it is not there yet. */
  static Map<String, Long> read(Path file) {
    try {
      return JSON.readValue(Files.readAllBytes(file), new TypeReference<TreeMap<String, Long>>() {});
    } catch (NoSuchFileException e) {
      return new TreeMap<>();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the stream's counts in " + file, e);
    }
  }

  /** The report's counters (of {@link Counters#NAMESPACE}) from the totals. */
  static Map<String, Long> counters(Map<String, Long> totals) {
    Map<String, Long> out = new TreeMap<>();
    for (String name : new String[] {Counters.READ, Counters.LATE, Counters.VALID,
        Counters.DUPLICATES_EXACT, Counters.DUPLICATES_CONFLICTING, Counters.QUARANTINED,
        Counters.FEATURE_ROWS}) {
      out.put(name, totals.getOrDefault(name, 0L));
    }
    // KeepRange drops what de-duplication let through and the range does not hold.
    out.put(Counters.OUT_OF_RANGE,
        totals.getOrDefault(StageCounts.UNIQUE, 0L) - totals.getOrDefault(Counters.VALID, 0L));
    return out;
  }

  /** The quarantine reasons and their counts from the totals. */
  static Map<String, Long> reasons(Map<String, Long> totals) {
    Map<String, Long> out = new TreeMap<>();
    totals.forEach((name, n) -> {
      if (name.startsWith(StageCounts.REASON_PREFIX)) {
        out.put(name.substring(StageCounts.REASON_PREFIX.length()), n);
      }
    });
    return out;
  }

  static final class SumFn extends DoFn<KV<String, KV<String, Long>>, Void> {
    private final String path;

    @StateId("totals")
    private final StateSpec<ValueState<Map<String, Long>>> totalsSpec =
        StateSpecs.value(MapCoder.of(StringUtf8Coder.of(), VarLongCoder.of()));

    /** Set while a write is due. */
    @StateId("due")
    private final StateSpec<ValueState<Boolean>> dueSpec = StateSpecs.value(BooleanCoder.of());

    @TimerId("write")
    private final TimerSpec writeSpec = TimerSpecs.timer(TimeDomain.PROCESSING_TIME);

    SumFn(String path) {
      this.path = path;
    }

    @ProcessElement
    public void process(
        @Element KV<String, KV<String, Long>> element,
        @StateId("totals") ValueState<Map<String, Long>> totals,
        @StateId("due") ValueState<Boolean> due,
        @TimerId("write") Timer write) {
      Map<String, Long> sums = totals.read();
      sums = sums == null ? new HashMap<>() : new HashMap<>(sums);
      sums.merge(element.getValue().getKey(), element.getValue().getValue(), Long::sum);
      totals.write(sums);
      if (due.read() == null) {
        write.offset(WRITE_EVERY).setRelative();
        due.write(true);
      }
    }

    @OnTimer("write")
    public void onWrite(
        @StateId("totals") ValueState<Map<String, Long>> totals,
        @StateId("due") ValueState<Boolean> due) throws IOException {
      due.clear();
      Map<String, Long> sums = totals.read();
      Path target = Paths.get(path);
      Files.createDirectories(target.getParent());
      Path temp = target.resolveSibling("." + target.getFileName() + ".tmp");
      Files.write(temp, JSON.writeValueAsBytes(new TreeMap<>(sums == null ? Map.of() : sums)));
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
  }
}
