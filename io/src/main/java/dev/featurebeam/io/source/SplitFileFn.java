package dev.featurebeam.io.source;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.util.List;
import org.apache.beam.sdk.io.Compression;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.values.KV;

/**
 * Cuts an uncompressed CSV or JSON-lines file into parts of about {@code partBytes} that start
 * where records start ({@link FileSplits}), at most {@value #MAX_PARTS} of them; any other file is
 * one part.
 */
class SplitFileFn extends DoFn<FileIO.ReadableFile, KV<FileIO.ReadableFile, FileSplits.Range>> {
  /** At most this many parts per file; a larger file gets larger parts. */
  static final int MAX_PARTS = 1024;

  private final long partBytes;

  SplitFileFn(long partBytes) {
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
