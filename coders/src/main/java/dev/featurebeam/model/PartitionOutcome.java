package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import java.util.List;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/** What the offline store did with one as-of partition of a run. */
@AutoValue
// Not @DefaultSchema(AutoValueSchema.class): Beam only sees get-/is-prefixed getters, so it
// inferred an empty schema for these accessors and could not decode the type.
@DefaultCoder(SerializableCoder.class)
public abstract class PartitionOutcome implements Serializable {
  public abstract long asOfEpochDay();

  /** True when the partition was swapped in; false when the quality gate kept it out. */
  public abstract boolean published();

  public abstract long rowCount();

  /** The path of the partition folder (published or, if rejected, where it would have gone). */
  public abstract String path();

  /** The failed checks' messages; empty when published. */
  public abstract List<String> failures();

  public static PartitionOutcome of(
      long asOfEpochDay, boolean published, long rowCount, String path, List<String> failures) {
    return new AutoValue_PartitionOutcome(asOfEpochDay, published, rowCount, path, List.copyOf(failures));
  }
}
