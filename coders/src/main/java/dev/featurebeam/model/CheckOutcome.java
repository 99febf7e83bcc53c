package dev.featurebeam.model;

import com.google.auto.value.AutoValue;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Serializable;
import org.apache.beam.sdk.coders.AtomicCoder;
import org.apache.beam.sdk.coders.BooleanCoder;
import org.apache.beam.sdk.coders.CoderProvider;
import org.apache.beam.sdk.coders.CoderProviders;
import org.apache.beam.sdk.coders.DefaultCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.values.TypeDescriptor;

/** The result of one quality check on one as-of partition. */
@AutoValue
@DefaultCoder(CheckOutcome.CheckOutcomeCoder.class)
public abstract class CheckOutcome implements Serializable {
  /** The check as the spec reads, e.g. "txn_count_7d <= event_count_30d". */
  public abstract String check();

  public abstract boolean passed();

  /** What was seen: "3 rows fail, e.g. u1, u7, u9", or "0 rows fail". */
  public abstract String detail();

  public static CheckOutcome of(String check, boolean passed, String detail) {
    return new AutoValue_CheckOutcome(check, passed, detail);
  }

  public static final class CheckOutcomeCoder extends AtomicCoder<CheckOutcome> {
    private static final CheckOutcomeCoder INSTANCE = new CheckOutcomeCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(CheckOutcome.class), of());
    }

    public static CheckOutcomeCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(CheckOutcome c, OutputStream out) throws IOException {
      STRING.encode(c.check(), out);
      BooleanCoder.of().encode(c.passed(), out);
      STRING.encode(c.detail(), out);
    }

    @Override
    public CheckOutcome decode(InputStream in) throws IOException {
      return CheckOutcome.of(STRING.decode(in), BooleanCoder.of().decode(in), STRING.decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
