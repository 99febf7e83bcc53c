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
      RunWriter write;
      if (StoreLocation.isRemote(runsDir)) {
        // Each run one file, whole once its create returns.
        write = records -> writeRemoteRun(runsDir, records);
      } else {
        Path dir = Files.createDirectories(Paths.get(runsDir));
        write = records -> writeRun(dir, records);
      }
      List<QuarantineRecord> buffer = new ArrayList<>();
      long chars = 0;
      for (QuarantineRecord r : shard.getValue()) {
        buffer.add(r);
        chars += r.payload().length() + r.detail().length() + r.source().length() + 64;
        if (chars >= runChars) {
          out.output(write.write(buffer));
          buffer.clear();
          chars = 0;
        }
      }
      if (!buffer.isEmpty()) {
        out.output(write.write(buffer));
      }
    }

    /** Writes one sorted run of records and returns where. */
    private interface RunWriter {
      String write(List<QuarantineRecord> records) throws IOException;
    }

    static String writeRemoteRun(String dir, List<QuarantineRecord> records) throws IOException {
      records.sort(QuarantineWrite.ORDER);
      String run = StoreLocation.join(dir, UUID.randomUUID() + ".run");
      try (OutputStream out =
          new BufferedOutputStream(StoreLocation.fs(run).create(run), 1 << 16)) {
        for (QuarantineRecord r : records) {
          CODER.encode(r, out);
        }
      }
      return run;
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
      if (StoreLocation.isRemote(path)) {
        RemoteFs fs = StoreLocation.fs(path);
        List<InputStream> runs = new ArrayList<>();
        try {
          for (String run : all.getValue()) {
            if (!run.isEmpty()) {
              runs.add(new BufferedInputStream(fs.open(run), 1 << 16));
            }
          }
          // Written in place: on a remote root the file lies in a run's staging, which the run
          // folder's journal publishes.
          try (Writer w = new java.io.OutputStreamWriter(
              new BufferedOutputStream(fs.create(path), 1 << 16), StandardCharsets.UTF_8)) {
            out.output(mergeInto(runs, w, false));
          }
        } finally {
          for (InputStream in : runs) {
            in.close();
          }
          fs.deleteTree(runsDir);
        }
        return;
      }
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
    Files.createDirectories(target.getParent());
    // A hidden name beside the target: same file system, so the rename below is atomic.
    Path tmp =
        target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + ".tmp");
    long written;
    List<InputStream> ins = new ArrayList<>();
    try {
      for (Path run : runs) {
        ins.add(new BufferedInputStream(Files.newInputStream(run), 1 << 16));
      }
      try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        written = mergeInto(ins, w, dropRepeats);
      }
      Files.move(tmp, target, ATOMIC_MOVE, REPLACE_EXISTING);
    } finally {
      for (InputStream in : ins) {
        in.close();
      }
      Files.deleteIfExists(tmp);
    }
    return written;
  }

  /** Merges sorted runs into {@code w}, a line per record; returns the records written. */
  static long mergeInto(List<InputStream> runs, Writer w, boolean dropRepeats)
      throws IOException {
    PriorityQueue<RunReader> heads =
        new PriorityQueue<>((a, b) -> QuarantineWrite.ORDER.compare(a.head, b.head));
    for (InputStream run : runs) {
      RunReader reader = new RunReader(run);
      if (reader.advance()) {
        heads.add(reader);
      }
    }
    long written = 0;
    QuarantineRecord last = null;
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
    return written;
  }

  /** Reads one run's records in order. */
  private static final class RunReader {
    final InputStream in;
    QuarantineRecord head;

    RunReader(InputStream run) {
      in = run;
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
