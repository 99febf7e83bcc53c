package dev.featurebeam.coders;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderException;
import org.apache.beam.sdk.coders.StructuredCoder;
import org.apache.beam.sdk.util.VarInt;

/**
 * Wraps a coder so that each value crosses the stream in one bulk write and one bulk read: the
 * value is encoded into a buffer and written with its length, and read back the same way.
 *
 * <p>Why: Flink's batch shuffle hands coders a stream that costs a call and a bounds check per
 * byte, and {@code RowCoder} and {@code DataOutputStream} write numbers byte by byte; on the
 * whole-record shuffles that was a tenth of a run. Beam's {@code LengthPrefixCoder} buffers the
 * write the same way but decodes through a limited stream, byte by byte, hence this class.
 */
public final class BulkCoder<T> extends StructuredCoder<T> {
  private final Coder<T> inner;

  private BulkCoder(Coder<T> inner) {
    this.inner = inner;
  }

  public static <T> BulkCoder<T> of(Coder<T> inner) {
    return new BulkCoder<>(inner);
  }

  @Override
  public void encode(T value, OutputStream out) throws IOException {
    // A buffer per value, not per thread: coders nest, and a shared buffer would be reset mid-value.
    Buffer buffer = new Buffer();
    inner.encode(value, buffer);
    VarInt.encode(buffer.size, out);
    out.write(buffer.bytes, 0, buffer.size);
  }

  @Override
  public T decode(InputStream in) throws IOException {
    int length = VarInt.decodeInt(in);
    if (length < 0) {
      throw new CoderException("negative length " + length);
    }
    byte[] bytes = in.readNBytes(length);
    if (bytes.length != length) {
      throw new EOFException("a value of " + length + " bytes ends after " + bytes.length);
    }
    return inner.decode(new Bytes(bytes));
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
    return inner.consistentWithEquals();
  }

  @Override
  public Object structuralValue(T value) {
    return inner.structuralValue(value);
  }
}
