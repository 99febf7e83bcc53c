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
 * A record kept out of the features: its reason code (e.g. {@code MISSING:user_id}), a
 * human-readable detail, where it came from and its raw payload.
 *
 * <p>A payload longer than {@link #MAX_PAYLOAD_CHARS} is kept only in part, with the length of the
 * whole ({@link #payloadLength()}); a detail longer than {@link #MAX_DETAIL_CHARS} is cut. So one
 * hostile record of any size stays small in every shuffle and in the quarantine file.
 */
@AutoValue
@DefaultCoder(QuarantineRecord.QuarantineRecordCoder.class)
public abstract class QuarantineRecord implements Serializable {
  /** Characters of a payload that are kept. */
  public static final int MAX_PAYLOAD_CHARS = 65_536;

  /** Characters of a detail that are kept. */
  public static final int MAX_DETAIL_CHARS = 1_024;

  public abstract String reason();

  public abstract String detail();

  public abstract String source();

  /** The raw record, or its first {@link #MAX_PAYLOAD_CHARS} characters. */
  public abstract String payload();

  /** The length in characters of the whole raw record when {@link #payload()} holds only a part of it; -1 otherwise. */
  public abstract long payloadLength();

  public boolean payloadTruncated() {
    return payloadLength() >= 0;
  }

  public static QuarantineRecord of(String reason, String detail, String source, String payload) {
    return of(reason, detail, source, payload, -1);
  }

  /**
   * For a source that kept only the start of an over-long record: {@code wholeLength} is the
   * length of the whole record in characters, or -1 when {@code payload} is all of it.
   */
  public static QuarantineRecord of(
      String reason, String detail, String source, String payload, long wholeLength) {
    long length = wholeLength;
    String kept = payload;
    if (payload.length() > MAX_PAYLOAD_CHARS) {
      kept = keptPart(payload, MAX_PAYLOAD_CHARS);
      length = Math.max(length, payload.length());
    }
    return new AutoValue_QuarantineRecord(reason,
        detail.length() > MAX_DETAIL_CHARS ? keptPart(detail, MAX_DETAIL_CHARS) + "…" : detail,
        source, kept, length);
  }

  /** The part of an over-long payload that is kept: its first {@link #MAX_PAYLOAD_CHARS}. */
  public static String keptPart(CharSequence payload) {
    return keptPart(payload, MAX_PAYLOAD_CHARS);
  }

  /** The first {@code chars} characters, one fewer where that would split a surrogate pair. */
  private static String keptPart(CharSequence s, int chars) {
    int n = Math.min(s.length(), chars);
    if (n > 0 && n < s.length() && Character.isHighSurrogate(s.charAt(n - 1))) {
      n--;
    }
    return s.subSequence(0, n).toString();
  }

  /** The four texts, then the whole payload's length. */
  public static final class QuarantineRecordCoder extends AtomicCoder<QuarantineRecord> {
    private static final QuarantineRecordCoder INSTANCE = new QuarantineRecordCoder();
    private static final StringUtf8Coder STRING = StringUtf8Coder.of();

    /** What {@code @DefaultCoder} looks up: the coder registry finds this coder for the type. */
    public static CoderProvider getCoderProvider() {
      return CoderProviders.forCoder(TypeDescriptor.of(QuarantineRecord.class), of());
    }

    public static QuarantineRecordCoder of() {
      return INSTANCE;
    }

    @Override
    public void encode(QuarantineRecord r, OutputStream out) throws IOException {
      STRING.encode(r.reason(), out);
      STRING.encode(r.detail(), out);
      STRING.encode(r.source(), out);
      STRING.encode(r.payload(), out);
      VarLongCoder.of().encode(r.payloadLength(), out);
    }

    @Override
    public QuarantineRecord decode(InputStream in) throws IOException {
      String reason = STRING.decode(in);
      String detail = STRING.decode(in);
      String source = STRING.decode(in);
      String payload = STRING.decode(in);
      return new AutoValue_QuarantineRecord(
          reason, detail, source, payload, VarLongCoder.of().decode(in));
    }

    @Override
    public void verifyDeterministic() {}

    @Override
    public boolean consistentWithEquals() {
      return true;
    }
  }
}
