package dev.featurebeam.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.DoubleCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.junit.jupiter.api.Test;

class BulkCoderTest {
  private static final Coder<KV<String, List<KV<Long, String>>>> NESTED =
      BulkCoder.of(
          KvCoder.of(
              StringUtf8Coder.of(),
              ListCoder.of(BulkCoder.of(KvCoder.of(VarLongCoder.of(), StringUtf8Coder.of())))));

  @Test
  void nestedValuesSurviveARoundTrip() throws Exception {
    // Bulk coders inside a bulk coder: each value must keep its own buffer.
    KV<String, List<KV<Long, String>>> value =
        KV.of("u1", List.of(KV.of(1L, "a"), KV.of(-7L, ""), KV.of(300L, "ü".repeat(200))));
    CoderProperties.coderDecodeEncodeEqual(NESTED, value);
    CoderProperties.coderDeterministic(NESTED, value, value);
    CoderProperties.coderSerializable(NESTED);
  }

  @Test
  void valuesFollowEachOtherOnOneStream() throws Exception {
    // A value bigger than the initial buffer, then a small one: lengths delimit them.
    char[] chars = new char[5000];
    Arrays.fill(chars, 'é');
    String big = new String(chars);
    Coder<String> coder = BulkCoder.of(StringUtf8Coder.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    coder.encode(big, out);
    coder.encode("x", out);
    InputStream in = new ByteArrayInputStream(out.toByteArray());
    assertThat(coder.decode(in), equalTo(big));
    assertThat(coder.decode(in), equalTo("x"));
    assertThat(in.read(), is(-1));
  }

  @Test
  void writesTheValueInOneCall() throws Exception {
    int[] calls = {0};
    OutputStream counting =
        new OutputStream() {
          @Override
          public void write(int b) {
            calls[0]++;
          }

          @Override
          public void write(byte[] b, int off, int len) {
            calls[0]++;
          }
        };
    BulkCoder.of(KvCoder.of(VarLongCoder.of(), DoubleCoder.of())).encode(KV.of(1L << 40, 2.5), counting);
    // The length prefix (one byte for a short value) and the value's bytes in one write.
    assertThat(calls[0], is(2));
  }

  @Test
  void aTruncatedValueFails() throws Exception {
    byte[] bytes = CoderUtils.encodeToByteArray(BulkCoder.of(StringUtf8Coder.of()), "hello");
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 2);
    assertThrows(
        EOFException.class,
        () -> BulkCoder.of(StringUtf8Coder.of()).decode(new ByteArrayInputStream(cut)));
  }

  @Test
  void determinismIsTheWrappedCoders() {
    assertThrows(
        Coder.NonDeterministicException.class,
        () -> BulkCoder.of(SerializableCoder.of(String.class)).verifyDeterministic());
  }
}
