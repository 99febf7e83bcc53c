package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/** The result of one quality check on one as-of partition. */
@AutoValue
// Not @DefaultSchema(AutoValueSchema.class): Beam only sees get-/is-prefixed getters, so it
// inferred an empty schema for these accessors and could not decode the type.
@DefaultCoder(SerializableCoder.class)
public abstract class CheckOutcome implements Serializable {
  /** The check as the spec reads, e.g. "txn_count_7d <= event_count_30d". */
  public abstract String check();

  public abstract boolean passed();

  /** What was seen: "3 rows fail, e.g. u1, u7, u9", or "0 rows fail". */
  public abstract String detail();

  public static CheckOutcome of(String check, boolean passed, String detail) {
    return new AutoValue_CheckOutcome(check, passed, detail);
  }
}
