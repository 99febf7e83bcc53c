package dev.featurebeam.coders;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.ListCoder;
import org.apache.beam.sdk.coders.SerializableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.testing.CoderProperties;
import org.apache.beam.sdk.util.CoderUtils;
import org.apache.beam.sdk.values.KV;
import org.junit.jupiter.api.Test;

class EncodedTest {
  private static final Coder<List<KV<Long, String>>> LIST =
      ListCoder.of(KvCoder.of(VarLongCoder.of(), StringUtf8Coder.of()));

  @Test
  void holdsTheWrappedCodersBytesAndDecodesThemOnDemand() throws Exception {
    List<KV<Long, String>> value =
        new ArrayList<>(List.of(KV.of(1L, "a"), KV.of(-7L, ""), KV.of(300L, "ü".repeat(200))));
    Encoded<List<KV<Long, String>>> encoded = Encoded.of(value, LIST);
    // The coder writes the wrapped coder's own encoding behind a length prefix.
    byte[] inner = CoderUtils.encodeToByteArray(LIST, value, Coder.Context.NESTED);
    byte[] outer = CoderUtils.encodeToByteArray(Encoded.coder(LIST), encoded);
    assertThat(
        Arrays.copyOfRange(outer, outer.length - inner.length, outer.length), equalTo(inner));
    // Decoding the wrapper copies bytes; the value comes back only when asked for.
    Encoded<List<KV<Long, String>>> copied =
        CoderUtils.decodeFromByteArray(Encoded.coder(LIST), outer);
    assertThat(copied, equalTo(encoded));
    List<KV<Long, String>> first = copied.get();
    assertThat(first, equalTo(value));
    // Each get() is a fresh copy: changing one changes neither the bytes nor the next copy.
    first.clear();
    assertThat(copied.get(), equalTo(value));
    assertThat(copied.get(), not(sameInstance(copied.get())));
    CoderProperties.coderDecodeEncodeEqual(Encoded.coder(LIST), encoded);
    CoderProperties.coderSerializable(Encoded.coder(LIST));
  }

  @Test
  void valuesFollowEachOtherOnOneStream() throws Exception {
    // A value bigger than the initial buffer, then a small one: lengths delimit them.
    String big = "é".repeat(5000);
    Coder<Encoded<String>> coder = Encoded.coder(StringUtf8Coder.of());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    coder.encode(Encoded.of(big, StringUtf8Coder.of()), out);
    coder.encode(Encoded.of("x", StringUtf8Coder.of()), out);
    InputStream in = new ByteArrayInputStream(out.toByteArray());
    assertThat(coder.decode(in).get(), equalTo(big));
    assertThat(coder.decode(in).get(), equalTo("x"));
    assertThat(in.read(), is(-1));
  }

  @Test
  void writesTheBytesInOneCall() throws Exception {
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
    Encoded.coder(LIST).encode(Encoded.of(List.of(KV.of(1L << 40, "abc")), LIST), counting);
    // The length prefix (one byte for a short value) and the value's bytes in one write.
    assertThat(calls[0], is(2));
  }

  @Test
  void aTruncatedValueFails() throws Exception {
    Coder<Encoded<String>> coder = Encoded.coder(StringUtf8Coder.of());
    byte[] bytes = CoderUtils.encodeToByteArray(coder, Encoded.of("hello", StringUtf8Coder.of()));
    byte[] cut = Arrays.copyOf(bytes, bytes.length - 2);
    assertThrows(EOFException.class, () -> coder.decode(new ByteArrayInputStream(cut)));
  }

  @Test
  void determinismIsTheWrappedCoders() throws Exception {
    assertThrows(
        Coder.NonDeterministicException.class,
        () -> Encoded.coder(SerializableCoder.of(String.class)).verifyDeterministic());
    Encoded.coder(StringUtf8Coder.of()).verifyDeterministic();
  }
}
