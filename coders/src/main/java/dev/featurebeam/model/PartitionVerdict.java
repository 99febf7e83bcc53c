package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * The quality gate's verdict on one as-of partition: its row count and every check's outcome. A
 * partition is published only when every check passed.
 */
@AutoValue
@DefaultCoder(PartitionVerdict.PartitionVerdictCoder.class)
public abstract class PartitionVerdict implements Serializable {
  /** The as-of date, as days since 1970-01-01. */
  public abstract long asOfEpochDay();

  public abstract long rowCount();

  public abstract List<CheckOutcome> checks();

  public boolean passed() {
    for (CheckOutcome c : checks()) {
      if (!c.passed()) {
        return false;
      }
    }
    return true;
  }

  public static PartitionVerdict of(long asOfEpochDay, long rowCount, List<CheckOutcome> checks) {
    return new AutoValue_PartitionVerdict(asOfEpochDay, rowCount, List.copyOf(checks));
  }

  public static final class PartitionVerdictCoder extends AtomicCoder<PartitionVerdict> {
    private static final PartitionVerdictCoder INSTANCE = new PartitionVerdictCoder();
    private static final ListCoder<CheckOutcome> CHECKS =
        ListCoder.of(CheckOutcome.CheckOutcomeCoder.of());

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(PartitionVerdict.class), of());
    }

    public static PartitionVerdictCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(PartitionVerdict v, OutputStream out) throws IOException {
      VarLongCoder.of().encode(v.asOfEpochDay(), out);
      VarLongCoder.of().encode(v.rowCount(), out);
      CHECKS.encode(v.checks(), out);
    }

    @Override
    public PartitionVerdict decode(InputStream in) throws IOException {
      return PartitionVerdict.of(
          VarLongCoder.of().decode(in), VarLongCoder.of().decode(in), CHECKS.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
