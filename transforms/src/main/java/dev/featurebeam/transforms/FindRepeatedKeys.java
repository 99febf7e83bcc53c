package dev.featurebeam.transforms;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.beam.sdk.coders.ByteArrayCoder;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.View;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.transforms.windowing.GlobalWindows;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;

/**
 * The keys that occur more than once in a bounded collection in the global window, as a side
 * input ({@link RepeatedKeys}). Keys are known by a 64-bit hash: two keys that share a hash both
 * count as repeated, which can only send a few more elements to a grouping, never fewer. The empty
 * key (no value) never repeats. There is no streaming counterpart: on a stream, de-duplication
 * keeps per-key state instead ({@link DeduplicateEvents.Method}).
 *
 * <p>Why: de-duplication grouped every event by its key, and on Flink's batch runner a grouping
 * sorts every record, comparing keys a byte at a time, while only a fraction of a per cent of keys
 * repeat. Here each bundle gathers its keys' hashes in a primitive array, sorts it, and ships it
 * in {@link #BUCKETS} slices by the hash's top byte; one reducer per slice finds the hashes seen
 * twice. Eight bytes per event are shuffled instead of the event, and no record sort is needed.
 *
 * @param <V> the values beside the keys, which this step ignores
 */
@AutoValue
public abstract class FindRepeatedKeys<V>
    extends PTransform<PCollection<KV<String, V>>, PCollectionView<List<byte[]>>> {
  /** Slices of the hash space, each reduced on its own: parallel and bounded in size. */
  static final int BUCKETS = 256;

  /** A bundle ships its hashes when it holds this many (32 MB), bounding its memory. */
  static final int MAX_BUFFERED = 1 << 22;

  abstract int maxBuffered();

  public static <V> FindRepeatedKeys<V> create() {
    return new AutoValue_FindRepeatedKeys<>(MAX_BUFFERED);
  }

  /** For tests: ship a bundle's hashes every {@code maxBuffered} keys. */
  FindRepeatedKeys<V> withMaxBuffered(int maxBuffered) {
    checkArgument(maxBuffered >= 1, "maxBuffered must be at least 1, got %s", maxBuffered);
    return new AutoValue_FindRepeatedKeys<>(maxBuffered);
  }

  @Override
  public PCollectionView<List<byte[]>> expand(PCollection<KV<String, V>> input) {
    checkArgument(input.isBounded() == PCollection.IsBounded.BOUNDED,
        "FindRepeatedKeys needs a bounded input: its side input is complete only at the end");
    checkArgument(input.getWindowingStrategy().getWindowFn() instanceof GlobalWindows,
        "FindRepeatedKeys needs its input in the global window, got %s",
        input.getWindowingStrategy().getWindowFn());
    return input
        .apply("HashKeysPerBundle", ParDo.of(new HashKeysFn<V>(maxBuffered())))
        .setCoder(KvCoder.of(VarIntCoder.of(), ByteArrayCoder.of()))
        .apply("GroupByBucket", GroupByKey.create())
        .apply("RepeatedInBucket", ParDo.of(new RepeatedInBucketFn()))
        .setCoder(ByteArrayCoder.of())
        .apply("AsSideInput", View.asList());
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayData.item("buckets", BUCKETS).withLabel("Hash slices"))
        .add(DisplayData.item("maxBuffered", maxBuffered()).withLabel("Hashes a bundle buffers"));
  }

  /**
   * A well-mixed 64-bit hash of a key: FNV-1a over its chars, then MurmurHash3's finalizer. By
   * hand because the JDK has no 64-bit string hash and Beam's vendored Guava is not an API.
   */
  public static long hash(String key) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < key.length(); i++) {
      h = (h ^ key.charAt(i)) * 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    return h ^ (h >>> 33);
  }

  static int bucket(long hash) {
    return (int) (hash >>> 56);
  }

  static byte[] pack(long[] hashes, int from, int to) {
    ByteBuffer bytes = ByteBuffer.allocate((to - from) * Long.BYTES);
    bytes.asLongBuffer().put(hashes, from, to - from);
    return bytes.array();
  }

  /** All hashes of {@code slices}, sorted. Iterates once, as a grouping's values may allow. */
  static long[] unpackSorted(Iterable<byte[]> iterable) {
    List<byte[]> slices = new ArrayList<>();
    iterable.forEach(slices::add);
    int total = 0;
    for (byte[] slice : slices) {
      total += slice.length / Long.BYTES;
    }
    long[] all = new long[total];
    int size = 0;
    for (byte[] slice : slices) {
      int n = slice.length / Long.BYTES;
      ByteBuffer.wrap(slice).asLongBuffer().get(all, size, n);
      size += n;
    }
    Arrays.sort(all);
    return all;
  }

  /** Gathers a bundle's key hashes and ships them sorted, one slice per bucket. */
  static class HashKeysFn<V> extends DoFn<KV<String, V>, KV<Integer, byte[]>> {
    private final int maxBuffered;
    private transient long[] hashes;
    private transient int size;

    HashKeysFn(int maxBuffered) {
      this.maxBuffered = maxBuffered;
    }

    @StartBundle
    public void startBundle() {
      hashes = new long[Math.min(1024, maxBuffered)];
      size = 0;
    }

    @ProcessElement
    public void process(@Element KV<String, V> element, OutputReceiver<KV<Integer, byte[]>> out) {
      String key = element.getKey();
      if (key.isEmpty()) {
        return;
      }
      if (size == hashes.length) {
        hashes = Arrays.copyOf(hashes, Math.min(maxBuffered, hashes.length * 2));
      }
      hashes[size++] = hash(key);
      if (size == maxBuffered) {
        ship(BundleOutput.of(out));
      }
    }

    @FinishBundle
    public void finishBundle(FinishBundleContext context) {
      ship(BundleOutput.atEndOfGlobalWindow(context));
      hashes = null;
    }

    private void ship(BundleOutput<KV<Integer, byte[]>> out) {
      Arrays.sort(hashes, 0, size);
      int start = 0;
      for (int i = 1; i <= size; i++) {
        if (i == size || bucket(hashes[i]) != bucket(hashes[start])) {
          out.output(KV.of(bucket(hashes[start]), pack(hashes, start, i)));
          start = i;
        }
      }
      size = 0;
    }
  }

  /** All of a bucket's hashes, sorted; the ones seen more than once, each once. */
  static class RepeatedInBucketFn extends DoFn<KV<Integer, Iterable<byte[]>>, byte[]> {
    @ProcessElement
    public void process(@Element KV<Integer, Iterable<byte[]>> bucket, OutputReceiver<byte[]> out) {
      long[] all = unpackSorted(bucket.getValue());
      long[] repeated = new long[16];
      int found = 0;
      for (int i = 1; i < all.length; i++) {
        if (all[i] == all[i - 1] && (found == 0 || repeated[found - 1] != all[i])) {
          if (found == repeated.length) {
            repeated = Arrays.copyOf(repeated, found * 2);
          }
          repeated[found++] = all[i];
        }
      }
      if (found > 0) {
        out.output(pack(repeated, 0, found));
      }
    }
  }

  /** The side input's hashes, looked up by key. */
  public static final class RepeatedKeys {
    private final long[] sorted;

    private RepeatedKeys(long[] sorted) {
      this.sorted = sorted;
    }

    public static RepeatedKeys of(List<byte[]> slices) {
      return new RepeatedKeys(unpackSorted(slices));
    }

    /** Whether {@code key} may occur more than once: false means it occurs once at most. */
    public boolean mayRepeat(String key) {
      return !key.isEmpty() && Arrays.binarySearch(sorted, hash(key)) >= 0;
    }

    public int size() {
      return sorted.length;
    }
  }
}
