package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;

/** What the offline store did with one as-of partition of a run. */
@AutoValue
@DefaultCoder(PartitionOutcome.PartitionOutcomeCoder.class)
public abstract class PartitionOutcome implements Serializable {
  public abstract long asOfEpochDay();

  /** True when the partition was swapped in; false when the quality gate kept it out. */
  public abstract boolean published();

  public abstract long rowCount();

  /** The path of the partition folder (published or, if rejected, where it would have gone). */
  public abstract String path();

  /** The failed checks' messages; empty when published. */
  public abstract List<String> failures();

  /**
   * The sha256 (hex) of the {@code _MANIFEST.json} the store holds for this partition after the
   * run; empty when the partition was not published. The manifest lists every file's sha256, so
   * this names the published bytes exactly.
   */
  public abstract String manifestSha256();

  public static PartitionOutcome of(
      long asOfEpochDay, boolean published, long rowCount, String path, List<String> failures) {
    return of(asOfEpochDay, published, rowCount, path, failures, "");
  }

  public static PartitionOutcome of(long asOfEpochDay, boolean published, long rowCount,
      String path, List<String> failures, String manifestSha256) {
    return new AutoValue_PartitionOutcome(
        asOfEpochDay, published, rowCount, path, List.copyOf(failures), manifestSha256);
  }

  public static final class PartitionOutcomeCoder extends AtomicCoder<PartitionOutcome> {
    private static final PartitionOutcomeCoder INSTANCE = new PartitionOutcomeCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();
    private static final ListCoder<String> STRINGS = ListCoder.of(STRING);

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(PartitionOutcome.class), of());
    }

    public static PartitionOutcomeCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(PartitionOutcome o, OutputStream out) throws IOException {
      VarLongCoder.of().encode(o.asOfEpochDay(), out);
      BooleanCoder.of().encode(o.published(), out);
      VarLongCoder.of().encode(o.rowCount(), out);
      STRING.encode(o.path(), out);
      STRINGS.encode(o.failures(), out);
      STRING.encode(o.manifestSha256(), out);
    }

    @Override
    public PartitionOutcome decode(InputStream in) throws IOException {
      return PartitionOutcome.of(VarLongCoder.of().decode(in), BooleanCoder.of().decode(in),
          VarLongCoder.of().decode(in), STRING.decode(in), STRINGS.decode(in), STRING.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
