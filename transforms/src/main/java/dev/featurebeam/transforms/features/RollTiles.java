package dev.featurebeam.transforms.features;

import static com.google.common.base.Preconditions.checkArgument;

import com.google.auto.value.AutoValue;
import dev.featurebeam.coders.Encoded;
import dev.featurebeam.model.InvalidValue;
import dev.featurebeam.spec.FeatureSpec;
import dev.featurebeam.transforms.AsOfRange;
import dev.featurebeam.transforms.DisplayItems;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.RowCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.DoFn;
import org.apache.beam.sdk.transforms.GroupByKey;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.ParDo;
import org.apache.beam.sdk.transforms.display.DisplayData;
import org.apache.beam.sdk.values.KV;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionTuple;
import org.apache.beam.sdk.values.TupleTagList;

/**
 * Composes each entity's tiles into every window of every as-of date of the run, one feature row
 * per (entity, as-of date) where the entity has an event in the presence window. Counts {@code
 * feature_rows}.
 *
 * <p>{@link ComputeFeatures.Method#STATE_AND_TIMERS} ({@link RollFn}): per-entity state and one
 * event-time timer that walks the as-of instants. The timer for T is set one millisecond before T,
 * so it fires only when the watermark has passed every tile of every day before T; windows stop at
 * the day before T, so nothing at or after T is read. Tiles no later window reads are folded into
 * one, which bounds state. Tiles that come after their day was folded count as {@code late_tiles}.
 *
 * <p>{@link ComputeFeatures.Method#GROUP_BY_ENTITY} ({@link RollAllFn}), bounded input only: every
 * tile is at hand, so the entity's tiles are grouped and the same walk runs in one go, without
 * per-key state and a timer per as-of date. A day may come in several tiles ({@link
 * TileInBundles}), which this path merges and counts as {@code tiles}.
 *
 * <p>Both paths step through {@link EntityHistory#nextPresent} and build rows with {@link
 * Composer}, and the tests hold them to the same rows.
 */
@AutoValue
abstract class RollTiles extends PTransform<PCollection<KV<String, Tile>>, PCollectionTuple> {
  abstract FeatureSpec spec();

  abstract AsOfRange range();

  abstract ComputeFeatures.Method method();

  static RollTiles of(FeatureSpec spec, AsOfRange range) {
    return new AutoValue_RollTiles(spec, range, ComputeFeatures.Method.AUTO);
  }

  /** Which path rolls; the tiling before it must be the same method's (see {@link ComputeFeatures}). */
  RollTiles withMethod(ComputeFeatures.Method method) {
    return new AutoValue_RollTiles(spec(), range(), method);
  }

  @Override
  public PCollectionTuple expand(PCollection<KV<String, Tile>> tiles) {
    ComputeFeatures.Method method = method().resolve(tiles);
    boolean bounded = tiles.isBounded() == PCollection.IsBounded.BOUNDED;
    checkArgument(bounded || method != ComputeFeatures.Method.GROUP_BY_ENTITY,
        "GROUP_BY_ENTITY needs a bounded input");
    Composer composer = new Composer(spec(), range());
    TupleTagList invalid = TupleTagList.of(ComputeFeatures.INVALID_VALUES);
    PCollectionTuple out;
    if (method == ComputeFeatures.Method.GROUP_BY_ENTITY) {
      out = tiles
          // Tiles cross the shuffle encoded: the runner copies them without decoding.
          .apply("EncodeTiles", ParDo.of(new EncodeTileFn()))
          .setCoder(KvCoder.of(StringUtf8Coder.of(), Encoded.coder(TileCoder.of())))
          .apply("GroupByEntity", GroupByKey.create())
          .apply("ComposeWindows", ParDo.of(new RollAllFn(composer))
              .withOutputTags(ComputeFeatures.FEATURES, invalid));
    } else {
      out = tiles.apply("ComposeWindows", ParDo.of(new RollFn(composer))
          .withOutputTags(ComputeFeatures.FEATURES, invalid));
    }
    out.get(ComputeFeatures.FEATURES).setCoder(RowCoder.of(spec().outputSchema()));
    out.get(ComputeFeatures.INVALID_VALUES).setCoder(InvalidValue.InvalidValueCoder.of());
    return out;
  }

  @Override
  public void populateDisplayData(DisplayData.Builder builder) {
    super.populateDisplayData(builder);
    builder
        .add(DisplayItems.featureSet(spec()))
        .add(DisplayItems.range(range()))
        .add(DisplayData.item("method", method().name()).withLabel("Method"));
  }

  static class EncodeTileFn extends DoFn<KV<String, Tile>, KV<String, Encoded<Tile>>> {
    @ProcessElement
    public void process(
        @Element KV<String, Tile> tile, OutputReceiver<KV<String, Encoded<Tile>>> out) {
      out.output(KV.of(tile.getKey(), Encoded.of(tile.getValue(), TileCoder.of())));
    }
  }
}
