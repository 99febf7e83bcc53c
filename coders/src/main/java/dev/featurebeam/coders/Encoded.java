package dev.featurebeam.coders;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StructuredCoder;
import org.apache.beam.sdk.util.VarInt;

/**
 * A value that crosses a shuffle as the bytes its coder wrote, decoded only by the step that
 * reads it ({@link #get}).
 *
 * <p>Why: Flink's batch runner decodes and re-encodes a record each time it moves it inside a
 * shuffle (into the sort buffer, into a spill file, in every merge), through a stream that takes a
 * call per byte; the bytes of an {@code Encoded} value are copied in one call instead. Beam's {@code LengthPrefixCoder} wraps a
 * coder the same way but still decodes the value, byte by byte, wherever it is read.
 *
 * @param <T> the value's type
 */
public final class Encoded<T> {
  private final byte[] bytes;
  private final Coder<T> coder;

  private Encoded(byte[] bytes, Coder<T> coder) {
    this.bytes = bytes;
    this.coder = coder;
  }

  /** {@code value} encoded with {@code coder}. */
  public static <T> Encoded<T> of(T value, Coder<T> coder) {
    Buffer buffer = new Buffer();
    try {
      coder.encode(value, buffer);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot encode " + value + " with " + coder, e);
    }
    return new Encoded<>(Arrays.copyOf(buffer.bytes, buffer.size), coder);
  }

  /** Decodes the value; each call returns a new copy, which the caller may change. */
  public T get() {
    try {
      return coder.decode(new Bytes(bytes));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot decode a value with " + coder, e);
    }
  }

  /** The coder for {@code Encoded} values of {@code coder}. */
  public static <T> EncodedCoder<T> coder(Coder<T> coder) {
    return new EncodedCoder<>(coder);
  }

  // Equal values give equal bytes only under a deterministic coder, so equality is by bytes:
  // what the runner compares when it checks that a step did not change its input.
  @Override
  public boolean equals(Object o) {
    return o instanceof Encoded && Arrays.equals(bytes, ((Encoded<?>) o).bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "Encoded(" + bytes.length + " bytes)";
  }

  /** Writes the length and the bytes; reads them back in one call, without decoding. */
  public static final class EncodedCoder<T> extends StructuredCoder<Encoded<T>> {
    private final Coder<T> inner;

    private EncodedCoder(Coder<T> inner) {
      this.inner = inner;
    }

    @Override
    public void encode(Encoded<T> value, OutputStream out) throws IOException {
      VarInt.encode(value.bytes.length, out);
      out.write(value.bytes);
    }

    @Override
    public Encoded<T> decode(InputStream in) throws IOException {
      int length = VarInt.decodeInt(in);
      if (length < 0) {
        throw new CoderException("negative length " + length);
      }
      byte[] bytes = in.readNBytes(length);
      if (bytes.length != length) {
        throw new EOFException("a value of " + length + " bytes ends after " + bytes.length);
      }
      return new Encoded<>(bytes, inner);
    }

    @Override
    public List<? extends Coder<?>> getCoderArguments() {
      return List.of(inner);
    }

    @Override
    public void verifyDeterministic() throws NonDeterministicException {
      verifyDeterministic(this, "the wrapped coder must be deterministic", inner);
    }

    @Override
    public boolean consistentWithEquals() {
      return true; // equality is by bytes
    }
  }

  /** A growing byte array; unlike ByteArrayOutputStream, no lock per byte written. */
  private static final class Buffer extends OutputStream {
    byte[] bytes = new byte[128];
    int size;

    @Override
    public void write(int b) {
      if (size == bytes.length) {
        bytes = Arrays.copyOf(bytes, size * 2);
      }
      bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      if (size + len > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(size * 2, size + len));
      }
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }
  }

  /** Reads a byte array; unlike ByteArrayInputStream, no lock per byte read. */
  private static final class Bytes extends InputStream {
    private final byte[] bytes;
    private int position;

    Bytes(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public int read() {
      return position < bytes.length ? bytes[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (len == 0) {
        return 0;
      }
      int n = Math.min(len, bytes.length - position);
      if (n <= 0) {
        return -1;
      }
      System.arraycopy(bytes, position, b, off, n);
      position += n;
      return n;
    }

    @Override
    public int available() {
      return bytes.length - position;
    }
  }
}
