package dev.featurebeam.io.source;

import dev.featurebeam.model.QuarantineRecord;
import dev.featurebeam.model.RawRecord;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.channels.Channels;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.metrics.Counter;
import org.apache.beam.sdk.metrics.Metrics;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;
import org.apache.parquet.avro.AvroParquetReader;
import org.apache.parquet.hadoop.ParquetReader;

/**
 * Streams one part of a file into {@link RawRecord}s, in the reader its extension selects ({@link
 * FileFormat}), counting the records and the malformed ones under {@link FileSource}'s name.
 */
class ReadFilePartFn extends DoFn<KV<FileIO.ReadableFile, FileSplits.Range>, RawRecord> {
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
          header = CsvRecordReader.header(path, first);
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
            header = CsvRecordReader.header(path, r);
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
