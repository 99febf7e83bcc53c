package dev.featurebeam.io.sink;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;

/**
 * One Parquet file written into a staged partition: its name, row count, sha256 (hex) and the
 * partition checks' statistics of its rows (encoded; empty without checks). It has its own small
 * coder: a schema coder would need the class compiled with parameter names.
 */
@AutoValue
abstract class ShardFile {
  abstract String name();

  abstract long rows();

  abstract String sha256();

  @SuppressWarnings("mutable") // encoded once by the writer, only read after
  abstract byte[] checkStats();

  static ShardFile of(String name, long rows, String sha256, byte[] checkStats) {
    return new AutoValue_ShardFile(name, rows, sha256, checkStats);
  }

  /** The four fields in order: deterministic, and equal files encode alike. */
  static final class ShardFileCoder extends AtomicCoder<ShardFile> {
    private static final ShardFileCoder INSTANCE = new ShardFileCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();
    private static final ByteArrayCoder BYTES = ByteArrayCoder.of();

    public static ShardFileCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(ShardFile value, OutputStream out) throws IOException {
      STRING.encode(value.name(), out);
      VarLongCoder.of().encode(value.rows(), out);
      STRING.encode(value.sha256(), out);
      BYTES.encode(value.checkStats(), out);
    }

    @Override
    public ShardFile decode(InputStream in) throws IOException {
      return ShardFile.of(
          STRING.decode(in), VarLongCoder.of().decode(in), STRING.decode(in), BYTES.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true; // AutoValue compares the statistics' bytes by content
    }
  }
}
