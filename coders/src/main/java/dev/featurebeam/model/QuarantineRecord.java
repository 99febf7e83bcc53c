package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.Serializable;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.SerializableCoder;

/**
 * A record kept out of the features: its reason code (SPEC.md, e.g. {@code MISSING:user_id}), a
 * human-readable detail, where it came from and its raw payload.
 */
@AutoValue
// Not @DefaultSchema(AutoValueSchema.class): Beam only sees get-/is-prefixed getters, so it
// inferred an empty schema for these accessors and could not decode the type.
@DefaultCoder(SerializableCoder.class)
public abstract class QuarantineRecord implements Serializable {
  public abstract String reason();

  public abstract String detail();

  public abstract String source();

  public abstract String payload();

  public static QuarantineRecord of(String reason, String detail, String source, String payload) {
    return new AutoValue_QuarantineRecord(reason, detail, source, payload);
  }
}
