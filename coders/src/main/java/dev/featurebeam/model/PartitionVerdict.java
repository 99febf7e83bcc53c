package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * The quality gate's verdict on one as-of partition: its row count and every check's outcome. A
 * partition is published only when every check passed.
 */
@AutoValue
// Not @DefaultSchema(AutoValueSchema.class): Beam only sees get-/is-prefixed getters, so it
// inferred an empty schema for these accessors and could not decode the type.
@DefaultCoder(SerializableCoder.class)
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
}
