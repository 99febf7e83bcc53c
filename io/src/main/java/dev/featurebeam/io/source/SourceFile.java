package dev.featurebeam.io.source;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;

/** One matched input file, as recorded in the manifests' lineage. */
@AutoValue
@DefaultCoder(SourceFile.SourceFileCoder.class)
public abstract class SourceFile implements Serializable {
  /** The file's full path as the file system reports it. */
  public abstract String path();

  public abstract long sizeBytes();

  public abstract FileFormat format();

  public static SourceFile of(String path, long sizeBytes, FileFormat format) {
    return new AutoValue_SourceFile(path, sizeBytes, format);
  }

  /** The path, the size and the format's name: deterministic, and equal files encode alike. */
  public static final class SourceFileCoder extends AtomicCoder<SourceFile> {
    private static final SourceFileCoder INSTANCE = new SourceFileCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(SourceFile.class), of());
    }

    public static SourceFileCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(SourceFile f, OutputStream out) throws IOException {
      STRING.encode(f.path(), out);
      VarLongCoder.of().encode(f.sizeBytes(), out);
      STRING.encode(f.format().name(), out);
    }

    @Override
    public SourceFile decode(InputStream in) throws IOException {
      String path = STRING.decode(in);
      long size = VarLongCoder.of().decode(in);
      String format = STRING.decode(in);
      try {
        return SourceFile.of(path, size, FileFormat.valueOf(format));
      } catch (IllegalArgumentException e) {
        throw new CoderException("not a source file format: " + format, e);
      }
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
