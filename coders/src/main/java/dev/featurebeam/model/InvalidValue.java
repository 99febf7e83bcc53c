package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.values.TypeDescriptor;

/**
 * A feature value that its output column cannot hold exactly, such as an int64 sum that overflows
 * or a double sum that is not finite. Its row carries a null in its place; the partition that
 * holds the row fails a built-in check and is not published.
 */
@AutoValue
@DefaultCoder(InvalidValue.InvalidValueCoder.class)
public abstract class InvalidValue implements Serializable {
  /** The as-of date of the row, as days since 1970-01-01. */
  public abstract long asOfEpochDay();

  public abstract String entity();

  public abstract String feature();

  /** Why, e.g. "int64 sum overflows: 9223372036854775808". */
  public abstract String reason();

  public static InvalidValue of(long asOfEpochDay, String entity, String feature, String reason) {
    return new AutoValue_InvalidValue(asOfEpochDay, entity, feature, reason);
  }

  /** "u17 purchase_amount_30d: int64 sum overflows: ...". */
  public String describe() {
    return entity() + " " + feature() + ": " + reason();
  }

  public static final class InvalidValueCoder extends AtomicCoder<InvalidValue> {
    private static final InvalidValueCoder INSTANCE = new InvalidValueCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(InvalidValue.class), of());
    }

    public static InvalidValueCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(InvalidValue v, OutputStream out) throws IOException {
      VarLongCoder.of().encode(v.asOfEpochDay(), out);
      STRING.encode(v.entity(), out);
      STRING.encode(v.feature(), out);
      STRING.encode(v.reason(), out);
    }

    @Override
    public InvalidValue decode(InputStream in) throws IOException {
      return InvalidValue.of(VarLongCoder.of().decode(in), STRING.decode(in), STRING.decode(in),
          STRING.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
