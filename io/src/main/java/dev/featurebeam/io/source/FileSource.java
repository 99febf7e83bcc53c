package dev.featurebeam.io.source;

import static com.google.common.base.Preconditions.checkArgument;
import static com.google.common.base.Preconditions.checkNotNull;

import com.google.auto.value.AutoValue;
import dev.featurebeam.model.RawRecord;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.io.FileIO;
import org.apache.beam.sdk.io.ReadableFileCoder;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.Reshuffle;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;

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
@AutoValue
public abstract class FileSource extends PTransform<PBegin, PCollection<RawRecord>> {
  /** Reads each file whole unless {@link #inParts} says otherwise. */
  static final long WHOLE_FILES = Long.MAX_VALUE;

  /** The path or glob of the files to read. */
  public abstract String pathOrGlob();

  abstract long partBytes();

  /** Reads every file matching {@code pathOrGlob}: a path or a glob such as {@code data/*.csv}. */
  public static FileSource read(String pathOrGlob) {
    checkNotNull(pathOrGlob, "pathOrGlob");
    checkArgument(!pathOrGlob.isEmpty(), "the source path is empty");
    return new AutoValue_FileSource(pathOrGlob, WHOLE_FILES);
  }

  /**
   * Reads each uncompressed CSV or JSON-lines file in parts of about {@code partBytes} (at most
   * {@value SplitFileFn#MAX_PARTS} per file), spread over the workers, instead of one worker per
   * file. It pays when reading one large file is the slowest step; it costs when the records come
   * in dedup-key order, as the generator writes them, since de-duplication's sort then gets
   * interleaved runs instead of nearly sorted input (BENCHMARKS.md).
   */
  public FileSource inParts(long partBytes) {
    checkArgument(partBytes >= 1, "partBytes must be positive, got %s", partBytes);
    return new AutoValue_FileSource(pathOrGlob(), partBytes);
  }

  @Override
  public PCollection<RawRecord> expand(PBegin input) {
    PCollection<KV<FileIO.ReadableFile, FileSplits.Range>> parts =
        input
            .apply("Match", FileIO.match().filepattern(pathOrGlob()))
            .apply("ReadMatches", FileIO.readMatches())
            .apply("SplitFiles", ParDo.of(new SplitFileFn(partBytes())))
            .setCoder(KvCoder.of(ReadableFileCoder.of(), FileSplits.RangeCoder.of()));
    if (partBytes() != WHOLE_FILES) {
      // Parts go to workers round the runner's shuffle, so one file is read by all of them.
      parts = parts.apply("SpreadParts", Reshuffle.viaRandomKey());
    }
    return parts
        .apply("ReadRecords", ParDo.of(new ReadFilePartFn()))
        .setCoder(RawRecord.RawRecordCoder.of());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder.add(DisplayData.item("filePattern", pathOrGlob()).withLabel("Input file pattern"));
    if (partBytes() != WHOLE_FILES) {
      builder.add(DisplayData.item("partBytes", partBytes()).withLabel("Bytes per file part"));
    }
  }
}
