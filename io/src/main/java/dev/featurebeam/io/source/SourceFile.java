package dev.featurebeam.io.source;

import com.google.auto.value.AutoValue;
import java.io.Serializable;

/** One matched input file, as recorded in the manifests' lineage. */
@AutoValue
public abstract class SourceFile implements Serializable {
  /** The file's full path as the file system reports it. */
  public abstract String path();

  public abstract long sizeBytes();

  public abstract FileFormat format();

  public static SourceFile of(String path, long sizeBytes, FileFormat format) {
    return new AutoValue_SourceFile(path, sizeBytes, format);
  }
}
