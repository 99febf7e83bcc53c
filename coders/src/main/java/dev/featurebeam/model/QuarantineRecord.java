package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import org.apache.beam.sdk.schemas.AutoValueSchema;
import org.apache.beam.sdk.schemas.annotations.DefaultSchema;

/**
 * A record kept out of the features: its reason code (SPEC.md, e.g. {@code MISSING:user_id}), a
 * human-readable detail, where it came from and its raw payload.
 */
@AutoValue
@DefaultSchema(AutoValueSchema.class)
public abstract class QuarantineRecord {
  public abstract String reason();

  public abstract String detail();

  public abstract String source();

  public abstract String payload();

  public static QuarantineRecord of(String reason, String detail, String source, String payload) {
    return new AutoValue_QuarantineRecord(reason, detail, source, payload);
  }

  /** The field part of the reason code ("amount" for "BAD_TYPE:amount"). */
  public String reasonKind() {
    int i = reason().indexOf(':');
    return i < 0 ? reason() : reason().substring(0, i);
  }
}
