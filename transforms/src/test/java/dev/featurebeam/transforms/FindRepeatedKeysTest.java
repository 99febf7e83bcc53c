package dev.featurebeam.transforms;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.is;

import dev.featurebeam.testing.TestPipelineExtension;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.coders.VarIntCoder;
import org.apache.beam.sdk.testing.PAssert;
import org.apache.beam.sdk.testing.TestPipeline;
import org.apache.beam.sdk.transforms.Create;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(TestPipelineExtension.class)
class FindRepeatedKeysTest {

  /**
   * 3,000 keys drawn from 2,000, so that many repeat, some of them within one bundle and some
   * across; "" never counts. Bundles ship their hashes every 7 keys, so slices of one bucket come
   * from many shipments. The side input must flag exactly the keys that occur twice or more.
   */
  @Test
  void flagsExactlyTheKeysThatOccurMoreThanOnce(TestPipeline p) {
    Random random = new Random(11);
    List<KV<String, Integer>> input = new ArrayList<>();
    Map<String, Integer> occurrences = new HashMap<>();
    for (int i = 0; i < 3_000; i++) {
      String key = i % 500 == 0 ? "" : "event-" + random.nextInt(2_000);
      input.add(KV.of(key, i));
      occurrences.merge(key, 1, Integer::sum);
    }
    Set<String> expected = new TreeSet<>();
    occurrences.forEach((key, n) -> {
      if (n > 1 && !key.isEmpty()) {
        expected.add(key);
      }
    });

    PCollection<KV<String, Integer>> keyed =
        p.apply(Create.of(input).withCoder(KvCoder.of(StringUtf8Coder.of(), VarIntCoder.of())));
    PCollectionView<List<byte[]>> repeated =
        keyed.apply(FindRepeatedKeys.<Integer>create().withMaxBuffered(7));
    PCollection<String> flagged =
        p.apply("AllKeys", Create.of(new ArrayList<>(occurrences.keySet())))
            .apply("Flagged", ParDo.of(new FlaggedFn(repeated)).withSideInputs(repeated));
    PAssert.that(flagged).containsInAnyOrder(expected);
    p.run().waitUntilFinish();
    assertThat(expected.size() > 500, is(true));
  }

  /** The keys the side input says may repeat. */
  static class FlaggedFn extends DoFn<String, String> {
    private final PCollectionView<List<byte[]>> repeated;

    FlaggedFn(PCollectionView<List<byte[]>> repeated) {
      this.repeated = repeated;
    }

    @ProcessElement
    public void process(ProcessContext c) {
      if (FindRepeatedKeys.RepeatedKeys.of(c.sideInput(repeated)).mayRepeat(c.element())) {
        c.output(c.element());
      }
    }
  }

  @Test
  void noKeyRepeatsInAnEmptySideInput() {
    FindRepeatedKeys.RepeatedKeys none = FindRepeatedKeys.RepeatedKeys.of(List.of());
    assertThat(none.mayRepeat("e1"), is(false));
    assertThat(none.size(), equalTo(0));
  }

  /** The buckets split the hash space evenly, so no reducer gets much more than its share. */
  @Test
  void hashesSpreadOverTheBuckets() {
    int[] counts = new int[FindRepeatedKeys.BUCKETS];
    Set<Long> distinct = new HashSet<>();
    for (int i = 0; i < 256_000; i++) {
      long h = FindRepeatedKeys.hash("e" + String.format("%09d", i));
      distinct.add(h);
      counts[FindRepeatedKeys.bucket(h)]++;
    }
    assertThat(distinct.size(), equalTo(256_000));
    for (int c : counts) {
      assertThat("bucket sizes near 1,000: " + c, c > 850 && c < 1150, is(true));
    }
  }

  @Test
  void packedSlicesComeBackSorted() {
    long[] hashes = {5L, -3L, Long.MAX_VALUE, Long.MIN_VALUE, 0L, 5L};
    byte[] first = FindRepeatedKeys.pack(hashes, 0, 3);
    byte[] second = FindRepeatedKeys.pack(hashes, 3, 6);
    assertThat(first.length, equalTo(24));
    long[] back = FindRepeatedKeys.unpackSorted(List.of(first, second));
    assertThat(back, equalTo(new long[] {Long.MIN_VALUE, -3L, 0L, 5L, 5L, Long.MAX_VALUE}));
  }
}
