package dev.featurebeam.io.source;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import java.io.FilterInputStream;
import java.io.InputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.ReadableFileCoder;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;

/**
 * Reads CSV, JSON-lines and Parquet files into {@link RawRecord}s, one per record, each with its
 * raw payload and its source ({@code <file path>:<line or record number>}). The format is chosen
 * per file by its extension ({@link FileFormat}), so one glob may match mixed formats.
 *
 * <p>With {@link #inParts}, an uncompressed CSV or JSON-lines file is cut into parts that start
 * where a record starts ({@link FileSplits}), and the parts are spread over the workers; a Parquet
 * or compressed file is one part. Record sources and line numbers are the same however the file is
 * cut.
 *
 * <p>Each part is streamed record by record; a record that cannot be split into fields, or is
 * longer than {@link CsvRecordReader#MAX_RECORD_CHARS}, becomes a {@link RawRecord#malformed
 * malformed} record for the quarantine rather than failing the run, and a blank line a {@link
 * RawRecord#blank blank} one, so that every line is accounted for.
 * Run {@link SourceContract#check} first: it fails fast on a missing file or a broken schema.
 *
 * <pre>{@code
 * PCollection<RawRecord> raw = p.apply(FileSource.read("data/events-*.csv"));
 * }</pre>
 */
public final class FileSource extends PTransform<PBegin, PCollection<RawRecord>> {
  /** Reads each file whole unless {@link #inParts} says otherwise. */
  static final long WHOLE_FILES = Long.MAX_VALUE;

  /** At most this many parts per file; a larger file gets larger parts. */
  static final int MAX_PARTS = 1024;

  private final String pathOrGlob;
  private final long partBytes;

  private FileSource(String pathOrGlob, long partBytes) {
    this.pathOrGlob = pathOrGlob;
    this.partBytes = partBytes;
  }

  /** Reads every file matching {@code pathOrGlob}: a path or a glob such as {@code data/*.csv}. */
  public static FileSource read(String pathOrGlob) {
    Objects.requireNonNull(pathOrGlob, "pathOrGlob");
    if (pathOrGlob.isEmpty()) {
      throw new IllegalArgumentException("the source path is empty");
    }
    return new FileSource(pathOrGlob, WHOLE_FILES);
  }

  /**
   * Reads each uncompressed CSV or JSON-lines file in parts of about {@code partBytes}, spread over
   * the workers, instead of one worker per file. It pays when reading one large file is the slowest
   * step; it costs when the records come in dedup-key order, as the generator writes them, since
   * de-duplication's sort then gets interleaved runs instead of nearly sorted input (BENCHMARKS.md).
   */
  public FileSource inParts(long partBytes) {
    if (partBytes < 1) {
      throw new IllegalArgumentException("partBytes must be positive, got " + partBytes);
    }
    return new FileSource(pathOrGlob, partBytes);
  }

  public String pathOrGlob() {
    return pathOrGlob;
  }

  @Override
  public PCollection<RawRecord> expand(PBegin input) {
    PCollection<KV<FileIO.ReadableFile, FileSplits.Range>> parts =
        input
            .apply("Match", FileIO.match().filepattern(pathOrGlob))
            .apply("ReadMatches", FileIO.readMatches())
            .apply("SplitFiles", ParDo.of(new SplitFn(partBytes)))
            .setCoder(KvCoder.of(ReadableFileCoder.of(), FileSplits.RangeCoder.of()));
    if (partBytes != WHOLE_FILES) {
      // Parts go to workers round the runner's shuffle, so one file is read by all of them.
      parts = parts.apply("SpreadParts", Reshuffle.viaRandomKey());
    }
    return parts
        .apply("ReadRecords", ParDo.of(new ReadFn()))
        .setCoder(RawRecord.RawRecordCoder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("filePattern", pathOrGlob).withLabel("Input file pattern"));
  }

  /**
   * Cuts an uncompressed CSV or JSON-lines file into parts that start where records start
   * ({@link FileSplits}); any other file is one part.
   */
  static class SplitFn
      extends DoFn<FileIO.ReadableFile, KV<FileIO.ReadableFile, FileSplits.Range>> {
    private final long partBytes;

    SplitFn(long partBytes) {
      this.partBytes = partBytes;
    }

    @ProcessElement
    public void processElement(
        @Element FileIO.ReadableFile file,
        OutputReceiver<KV<FileIO.ReadableFile, FileSplits.Range>> out)
        throws IOException {
      long size = file.getMetadata().sizeBytes();
      FileFormat format = FileFormat.of(file.getMetadata().resourceId().toString());
      List<FileSplits.Range> ranges = List.of(new FileSplits.Range(0, size, 0));
      long part = Math.max(partBytes, size / MAX_PARTS);
      if (format != FileFormat.PARQUET
          && file.getCompression() == Compression.UNCOMPRESSED
          && size > part) {
        try (InputStream in = Channels.newInputStream(file.open())) {
          ranges = FileSplits.find(in, size, format == FileFormat.CSV, part);
        }
      }
      for (FileSplits.Range range : ranges) {
        out.output(KV.of(file, range));
      }
    }
  }

  /** Streams one part of a file, in the reader its extension selects. */
  static class ReadFn extends DoFn<KV<FileIO.ReadableFile, FileSplits.Range>, RawRecord> {
    private final Counter records = Metrics.counter(FileSource.class, "records");
    private final Counter malformed = Metrics.counter(FileSource.class, "malformed_records");

    @ProcessElement
    public void processElement(
        @Element KV<FileIO.ReadableFile, FileSplits.Range> part, OutputReceiver<RawRecord> out)
        throws IOException {
      FileIO.ReadableFile file = part.getKey();
      FileSplits.Range range = part.getValue();
      String path = file.getMetadata().resourceId().toString();
      RecordSink sink = r -> {
        records.inc();
        if (r.formatError() != null) {
          malformed.inc();
        }
        out.output(r);
      };
      switch (FileFormat.of(path)) {
        case CSV:
          readCsv(path, file, range, sink);
          break;
        case JSONL:
          readJsonLines(path, file, range, sink);
          break;
        case PARQUET:
          readParquet(path, file, sink);
          break;
      }
    }
  }

  /** Where the readers put records. */
  interface RecordSink {
    void accept(RawRecord record);
  }

  private static LineReader open(FileIO.ReadableFile file) throws IOException {
    // An InputStreamReader replaces invalid UTF-8 instead of failing the whole file.
    return new LineReader(
        new InputStreamReader(Channels.newInputStream(file.open()), StandardCharsets.UTF_8));
  }

  /** The bytes of {@code range}: the whole file, or a part of an uncompressed one. */
  private static LineReader open(FileIO.ReadableFile file, FileSplits.Range range)
      throws IOException {
    if (range.start == 0 && range.end == file.getMetadata().sizeBytes()) {
      return open(file);
    }
    SeekableByteChannel channel = file.openSeekable();
    channel.position(range.start);
    InputStream part =
        new LimitedInputStream(Channels.newInputStream(channel), range.end - range.start);
    return new LineReader(new InputStreamReader(part, StandardCharsets.UTF_8));
  }

  static void readCsv(
      String path, FileIO.ReadableFile file, FileSplits.Range range, RecordSink out)
      throws IOException {
    List<String> header = null;
    long headerLine = 0;
    if (range.start > 0) {
      // After blank lines, the header may also start this part: its line number tells it.
      try (LineReader in = open(file)) {
        CsvRecordReader.Record first = new CsvRecordReader(in, 0).nextNonBlank();
        if (first != null) {
          header = csvHeader(path, first);
          headerLine = first.line;
        }
      }
    }
    try (LineReader in = open(file, range)) {
      CsvRecordReader reader = new CsvRecordReader(in, range.linesBefore);
      for (CsvRecordReader.Record r = reader.next(); r != null; r = reader.next()) {
        String source = path + ":" + r.line;
        if (r.blank) {
          out.accept(RawRecord.blank(source)); // before the header too: every line counts
          continue;
        }
        if (header == null || r.line == headerLine) {
          if (header == null) {
            header = csvHeader(path, r);
          }
          continue; // the header is no record
        }
        if (r.error != null) {
          out.accept(RawRecord.malformed(source, r.text, r.error, r.length));
          continue;
        }
        List<String> values;
        try {
          values = CsvRecordReader.split(r.text);
        } catch (IOException e) {
          out.accept(RawRecord.malformed(source, r.text, "CSV record cannot be parsed: " + e.getMessage()));
          continue;
        }
        if (values.size() != header.size()) {
          out.accept(RawRecord.malformed(source, r.text,
              "CSV record has " + values.size() + " columns, header has " + header.size()));
          continue;
        }
        Map<String, String> fields = new LinkedHashMap<>();
        for (int i = 0; i < header.size(); i++) {
          fields.put(header.get(i), values.get(i));
        }
        out.accept(RawRecord.of(source, r.text, fields));
      }
    }
  }

  /** The header's column names, trimmed; a header that cannot be read fails the file. */
  static List<String> csvHeader(String path, CsvRecordReader.Record header) {
    try {
      if (header.error != null) {
        throw new IOException(header.error);
      }
      List<String> names = CsvRecordReader.split(header.text);
      names.replaceAll(String::trim);
      return names;
    } catch (IOException e) {
      throw new IllegalArgumentException(
          "cannot read the CSV header of " + path + ": " + e.getMessage(), e);
    }
  }

  static void readJsonLines(
      String path, FileIO.ReadableFile file, FileSplits.Range range, RecordSink out)
      throws IOException {
    int max = CsvRecordReader.MAX_RECORD_CHARS;
    try (LineReader in = open(file, range)) {
      long lineNumber = range.linesBefore;
      for (String line = in.readLine(max); line != null; line = in.readLine(max)) {
        lineNumber++;
        String source = path + ":" + lineNumber;
        if (in.lastLength() > max) {
          out.accept(RawRecord.malformed(source, QuarantineRecord.keptPart(line),
              "JSON line of " + in.lastLength() + " characters is over the limit of " + max
                  + "; the payload keeps its first " + CsvRecordReader.MAX_PAYLOAD_CHARS,
              in.lastLength()));
          continue;
        }
        if (lineNumber == 1 && line.startsWith("\uFEFF")) {
          line = line.substring(1);
        }
        out.accept(line.isBlank() ? RawRecord.blank(source) : JsonLineParser.parse(source, line));
      }
    }
  }

  static void readParquet(String path, FileIO.ReadableFile file, RecordSink out)
      throws IOException {
    // Not ParquetIO: its parse functions see neither the file nor the record's position, which
    // the quarantine needs; this is the same footer-then-row-groups read, one file per call.
    try (SeekableByteChannel channel = file.openSeekable();
        ParquetReader<GenericRecord> reader =
            AvroParquetReader.<GenericRecord>builder(ParquetRecords.inputFile(channel))
                .withDataModel(GenericData.get())
                .withConf(ParquetRecords.conf())
                .build()) {
      long n = 0;
      for (GenericRecord r = reader.read(); r != null; r = reader.read()) {
        n++;
        out.accept(ParquetRecords.record(path + ":" + n, r));
      }
    }
  }

  /** The first {@code limit} bytes of a stream. */
  private static final class LimitedInputStream extends FilterInputStream {
    private long left;

    LimitedInputStream(InputStream in, long limit) {
      super(in);
      this.left = limit;
    }

    @Override
    public int read() throws IOException {
      if (left <= 0) {
        return -1;
      }
      int b = in.read();
      if (b >= 0) {
        left--;
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left <= 0) {
        return -1;
      }
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n > 0) {
        left -= n;
      }
      return n;
    }
  }
}
