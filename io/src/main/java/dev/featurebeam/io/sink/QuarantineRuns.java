package dev.featurebeam.io.sink;

import static java.nio.file.StandardCopyOption.ATOMIC_MOVE;
import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;

import dev.featurebeam.model.QuarantineRecord;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.UUID;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * The quarantine's external sort: each shard's records sorted into run files of bounded size
 * ({@link WriteRunsFn}), then every run merged into the file a record at a time ({@link MergeFn}),
 * in {@link QuarantineWrite#ORDER}.
 */
final class QuarantineRuns {
  private static final QuarantineRecord.QuarantineRecordCoder CODER =
      QuarantineRecord.QuarantineRecordCoder.of();

  private QuarantineRuns() {}

  /** Sorts a shard's records into runs of bounded size; outputs each run file's path. */
  static class WriteRunsFn extends DoFn<KV<Integer, Iterable<QuarantineRecord>>, String> {
    private final String runsDir;
    private final long runChars;

    WriteRunsFn(String runsDir, long runChars) {
      this.runsDir = runsDir;
      this.runChars = runChars;
    }

    @ProcessElement
    public void process(
        @Element KV<Integer, Iterable<QuarantineRecord>> shard, OutputReceiver<String> out)
        throws IOException {
      Path dir = Files.createDirectories(Paths.get(runsDir));
      List<QuarantineRecord> buffer = new ArrayList<>();
      long chars = 0;
      for (QuarantineRecord r : shard.getValue()) {
        buffer.add(r);
        chars += r.payload().length() + r.detail().length() + r.source().length() + 64;
        if (chars >= runChars) {
          out.output(writeRun(dir, buffer));
          buffer.clear();
          chars = 0;
        }
      }
      if (!buffer.isEmpty()) {
        out.output(writeRun(dir, buffer));
      }
    }

    static String writeRun(Path dir, List<QuarantineRecord> records) throws IOException {
      return writeRun(dir, records, ".run");
    }

    static String writeRun(Path dir, List<QuarantineRecord> records, String suffix)
        throws IOException {
      records.sort(QuarantineWrite.ORDER);
      Path run = dir.resolve(UUID.randomUUID() + suffix);
      try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(run), 1 << 16)) {
        for (QuarantineRecord r : records) {
          CODER.encode(r, out);
        }
      }
      return run.toString();
    }
  }

  /** Merges every sorted run into the file, a record at a time; outputs how many it wrote. */
  static class MergeFn extends DoFn<KV<Void, Iterable<String>>, Long> {
    private final String path;
    private final String runsDir;

    MergeFn(String path, String runsDir) {
      this.path = path;
      this.runsDir = runsDir;
    }

    @ProcessElement
    public void process(@Element KV<Void, Iterable<String>> all, OutputReceiver<Long> out)
        throws IOException {
      StoreFaults.at(StoreFaults.AFTER_QUARANTINE_RUNS, "");
      List<Path> runs = new ArrayList<>();
      for (String run : all.getValue()) {
        if (!run.isEmpty()) {
          runs.add(Paths.get(run));
        }
      }
      try {
        out.output(merge(runs, Paths.get(path), false));
      } finally {
        OfflineStore.deleteRecursively(Paths.get(runsDir));
      }
    }
  }

  /**
   * Writes each bundle's records, sorted, as one run (to a hidden name, then renamed, so a run is
   * whole or absent). Outputs nothing: on a stream no step waits for the file.
   */
  static class WriteBundleRunsFn extends DoFn<QuarantineRecord, Long> {
    private final String runsDir;
    private transient List<QuarantineRecord> bundle;

    WriteBundleRunsFn(String runsDir) {
      this.runsDir = runsDir;
    }

    @StartBundle
    public void startBundle() {
      bundle = new ArrayList<>();
    }

    @ProcessElement
    public void process(@Element QuarantineRecord r) {
      bundle.add(r);
    }

    @FinishBundle
    public void finishBundle() throws IOException {
      if (bundle.isEmpty()) {
        return;
      }
      Path dir = Files.createDirectories(Paths.get(runsDir));
      Path run = Paths.get(WriteRunsFn.writeRun(dir, bundle, ".tmp"));
      Files.move(run, dir.resolve(run.getFileName().toString().replace(".tmp", ".run")),
          ATOMIC_MOVE);
      bundle = null;
    }
  }

  /**
   * Merges sorted runs into {@code target}, replaced atomically; returns the records written.
   * With {@code dropRepeats}, a record equal to the one before it is written once (a stream's
   * replayed bundle writes its records again; a record's source is unique, so nothing else repeats).
   */
  static long merge(List<Path> runs, Path target, boolean dropRepeats) throws IOException {
    List<RunReader> readers = new ArrayList<>();
    PriorityQueue<RunReader> heads =
        new PriorityQueue<>((a, b) -> QuarantineWrite.ORDER.compare(a.head, b.head));
    Files.createDirectories(target.getParent());
    // A hidden name beside the target: same file system, so the rename below is atomic.
    Path tmp =
        target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    long written = 0;
    try {
      for (Path run : runs) {
        RunReader reader = new RunReader(run);
        readers.add(reader);
        if (reader.advance()) {
          heads.add(reader);
        }
      }
      QuarantineRecord last = null;
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        while (!heads.isEmpty()) {
          RunReader next = heads.poll();
          if (!(dropRepeats && last != null && QuarantineWrite.ORDER.compare(last, next.head) == 0)) {
            w.write(QuarantineWrite.toJsonLine(next.head));
            w.write('\n');
            written++;
          }
          last = next.head;
          if (next.advance()) {
            heads.add(next);
          }
        }
      }
      Files.move(tmp, target, ATOMIC_MOVE, REPLACE_EXISTING);
    } finally {
      for (RunReader r : readers) {
        r.in.close();
      }
      Files.deleteIfExists(tmp);
    }
    return written;
  }

  /** Reads one run's records in order. */
  private static final class RunReader {
    final InputStream in;
    QuarantineRecord head;

    RunReader(Path run) throws IOException {
      in = new BufferedInputStream(Files.newInputStream(run), 1 << 16);
    }

    boolean advance() throws IOException {
      in.mark(1);
      if (in.read() < 0) {
        head = null;
        return false;
      }
      in.reset();
      try {
        head = CODER.decode(in);
      } catch (EOFException e) {
        throw new IOException("a quarantine run ends inside a record", e);
      }
      return true;
    }
  }
}
